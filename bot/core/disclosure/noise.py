"""Typing noise: words run together and letters swapped, put right before a second reading.

The detector (``engine``) reads a message as typed and, when this module changes it, once
more as repaired; the better reading wins. Only French is modelled: corrections go towards
the words of the French cue table, and a word of the project's own French text (the NLU
examples, the content) is never "corrected".
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from bot.core.disclosure.engine import CATEGORIES, LEXICON_DIR, _key_word, key
from bot.core.normalize import fold_letters

_GLUED_BEFORE = ("les", "des", "aux", "une", "mon", "ils", "son", "ses", "mes", "le", "la", "du",
                 "au", "un", "ma", "me", "il", "on", "de", "et", "sa")
_GLUED_AFTER = ("des", "les", "mon", "le", "la", "de", "du", "me", "ma", "il")


@functools.lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    """Whole words of the French cue patterns (keyed): what a typo is corrected towards."""
    words: set[str] = set()
    for path in sorted(LEXICON_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not data.get("elision"):  # the French table: typos are modelled for French only
            continue
        for category in CATEGORIES:
            for entry in data.get(category) or []:
                for run in re.findall(r"(?<![\\\w])([a-z]{4,})(?![a-z])", entry["re"]):
                    words.add(_key_word(fold_letters(run)))
    # Sorted: a typo at the same distance from two cue words is always put right the same way.
    return tuple(sorted(words - {"bate"}))  # "batée", the gold pan, is only named to be excluded


# French text of the project itself: its words are real words, never "typos" of a cue word
# ("suivi" is not "suivie", "etranger" is not "etrangle").
KNOWN_WORDS_FROM = ("nlu/data/nlu/*fr.yml", "content/answers/*.yml", "content/*.yml")


@functools.lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    root = Path(__file__).resolve().parents[3]  # the repository (or the installed tree)
    words = set(_vocabulary())
    for pattern in KNOWN_WORDS_FROM:
        for path in root.glob(pattern):
            words.update(key(path.read_text(encoding="utf-8", errors="replace")).split())
    return frozenset(w for w in words if w.isalpha())


def _split_glued(token: str) -> tuple[str, str] | None:
    """("le", "marteau") for "lemarteau", ("fait", "des") for "faitdes"; None if no split."""
    for head in _GLUED_BEFORE:
        if token.startswith(head) and len(token) - len(head) >= 4:
            return head, token[len(head):]
    for tail in _GLUED_AFTER:
        if token.endswith(tail) and len(token) - len(tail) >= 3:
            return token[:-len(tail)], tail
    return None


def _split_known(token: str, known: frozenset[str], depth: int = 2) -> list[str] | None:
    """"familleva" → ["famille", "va"], "maraboutfaitdes" → ["marabut", "fait", "des"]: a
    glued token cut into known words (the longest first part that works)."""
    for cut in range(len(token) - 2, 1, -1):
        head, tail = token[:cut], token[cut:]
        if head not in known or max(len(head), len(tail)) < 4:
            continue
        if tail in known:
            return [head, tail]
        if depth > 1 and len(tail) >= 4:
            rest = _split_known(tail, known, depth - 1)
            if rest:
                return [head, *rest]
    return None


def _fix_stem(token: str, stems: tuple[str, ...]) -> str | None:
    """"voilentee" → "violentee": the start of the token one typo away from a cue stem."""
    from rapidfuzz.distance import OSA

    for stem in stems:
        if len(token) > len(stem) and OSA.distance(token[:len(stem)], stem) <= 1:
            return stem + token[len(stem):]
    return None


def repair(keyed: str) -> str:
    """A second reading of a keyed text: glued words split ("faitdes choses", "familleva"),
    and words one typo away from a cue word or stem put right ("freer" → "frere", "voilentee"
    → "violentee"). Words of the project's own French are never touched."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    vocabulary = _vocabulary()
    known = _known()
    stems = tuple(w for w in vocabulary if len(w) >= 5)
    out = []
    for token in keyed.split():
        if len(token) < 5 or token in known or not token.isalpha():
            out.append(token)
            continue
        split = _split_glued(token)
        if split and (max(split, key=len) in known
                      or any(max(split, key=len).startswith(w) for w in stems)):
            out.extend(split)
            continue
        limit = 2 if len(token) >= 10 else 1
        best = process.extractOne(token, vocabulary, scorer=OSA.distance, score_cutoff=limit)
        if best:
            out.append(best[0])
            continue
        parts = _split_known(token, known)
        out.extend(parts or [_fix_stem(token, stems) or token])
    return " ".join(out)
