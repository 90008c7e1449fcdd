"""Search the content itself: what to offer when the intent classifier is not confident.

    from bot.content.search import suggest
    suggest("a ki je peu vendre mon or la", "fr", "GN")
    # [Suggestion(answer_id='gn_sell_gold', intent='sell_gold', score=0.61), ...]

A lexical index over every answer, in each language it is written in and in French: the short
text and its continuation (line by line), the answer's title and the titles of the menu rows
that open it, and the training examples of the intents that lead to it (`nlu/data/nlu/*.yml`:
how people ask for it). Every text goes through `bot.core.normalize.normalize` (the same
spelling the NLU sees), French stop-words are removed (`stopwordsiso`, minus words that carry
meaning here: "mine", "personne", "pièce", "combien"...).

Scoring is scikit-learn's TF-IDF: the cosine similarity on words (and word pairs), blended with
the cosine on character n-grams inside words, which survives misspellings ("vendr", "mercur").
An intent's score blends its closest single text (one strong match) with all of its texts in
that language taken as one document (many weak matches agree); the suggestion is the intent's
answer for the user's country. The index is built once per content load (about 2,000 short
texts: under a second) and cached by the content's fingerprint; a query takes a few ms.

Nothing is returned under `MIN_SCORE`, nor far below the best match (`RELATIVE_CUTOFF`), so
gibberish gets nothing and the user is offered the menu instead.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.core.normalize import fold_letters, normalize

from ._model import Answer, Content

log = logging.getLogger(__name__)

__all__ = ["Suggestion", "ContentIndex", "index_for", "suggest", "MIN_SCORE"]

MIN_SCORE = 0.15
RELATIVE_CUTOFF = 0.55   # a suggestion scores at least this share of the best one
WORD_WEIGHT = 0.6        # the rest is the character n-gram similarity
GROUP_WEIGHT = 2.5       # all of an answer's texts together, against its closest text
# The char n-gram similarity alone never makes a match: gibberish shares trigrams with
# everything. Without a shared word, a text needs this much char similarity to count.
CHAR_ONLY_MIN = 0.45
# Stop-words that carry meaning in this domain.
KEEP_WORDS = frozenset({
    "mine", "personne", "personnes", "piece", "valeur", "etat", "pur", "pure", "combien",
    "force", "parler", "parle", "ouvert", "ouverte", "ouverts", "droite", "rendre", "pire",
    "stop", "dehors", "enfants", "cent", "mille", "gens", "seul", "seule",
})
# Annotations of Rasa training examples: [Siguiri](place), [Mali]{"entity": ...}.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_WORD = re.compile(r"[^\W_]+")
# Answers that are screens about the assistant itself, never a topic to suggest.
_SKIP_TOPICS = frozenset({"navigation"})


@dataclass(frozen=True)
class Suggestion:
    answer_id: str
    intent: str | None
    score: float


def _stop_words() -> frozenset[str]:
    import stopwordsiso

    words = {fold_letters(w) for w in stopwordsiso.stopwords("fr")}
    # Elided forms and SMS leftovers that normalize() produces.
    words |= {"qu", "j", "l", "d", "s", "n", "m", "t", "c", "est", "ai"}
    # Light verbs of any question ("je veux mettre...", "il faut faire...").
    words |= {"mettre", "met", "veut", "veux", "voudrais", "vouloir", "faut", "faire",
              "sais", "savoir", "aller", "vais", "peu", "svp", "plait", "merci"}
    return frozenset(w for w in words if w not in KEEP_WORDS)


STOP_WORDS = _stop_words()


def tokens(text: str) -> list[str]:
    """The content words of a text: normalized, split on non-letters, stop-words out."""
    return [w for w in _WORD.findall(normalize(text)) if w not in STOP_WORDS]


@dataclass(frozen=True)
class _Doc:
    text: str
    lang: str
    key: str  # the intent it leads to, or "answer:<id>" for an answer no intent leads to


def _key(answer: Answer) -> str:
    return answer.intents[0] if answer.intents else f"answer:{answer.id}"


def _training_examples(nlu_dir: Path) -> list[tuple[str, str, str]]:
    """(lang, intent, example) for every training example under `nlu_dir`."""
    found: list[tuple[str, str, str]] = []
    if not nlu_dir.is_dir():
        return found
    for path in sorted(nlu_dir.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            log.warning("search: cannot read %s; its examples are not indexed", path.name)
            continue
        for block in data.get("nlu") or []:
            intent = block.get("intent")
            if not intent or not isinstance(block.get("examples"), str):
                continue
            lang = (block.get("metadata") or {}).get("lang") or path.stem
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((lang, intent, _ANNOTATION.sub(r"\1", line[2:])))
    return found


def _answer_docs(content: Content) -> list[_Doc]:
    docs: list[_Doc] = []
    menu_titles: dict[str, list[tuple[str, str]]] = {}
    for menu in content.menus.values():
        for item in menu.items:
            if item.choice_id.startswith("answer:"):
                menu_titles.setdefault(item.choice_id.removeprefix("answer:"), []).extend(
                    item.titles.items())
    for answer in content.answers.values():
        if answer.topic in _SKIP_TOPICS:
            continue
        key = _key(answer)
        for lang, text in answer.texts.items():
            for part in (text.short, text.more or ""):
                for line in re.split(r"\n+|(?<=[.!?])\s+", part):
                    if line.strip():
                        docs.append(_Doc(line, lang, key))
        for lang, title in list(answer.titles.items()) + menu_titles.get(answer.id, []):
            docs.append(_Doc(str(title), lang, key))
    return docs


class _Space:
    """TF-IDF on words and word pairs, and on character n-grams within words."""

    def __init__(self, texts: list[str]):
        self.words = TfidfVectorizer(analyzer=lambda t: _pairs(t.split()), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self.word_matrix = self.words.fit_transform(texts)
        self.char_matrix = self.chars.fit_transform(texts)

    def similarity(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        word = (self.word_matrix @ self.words.transform([text]).T).toarray().ravel()
        char = (self.char_matrix @ self.chars.transform([text]).T).toarray().ravel()
        return word, char


def _pairs(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


class ContentIndex:
    """The lexical index of one content load (see the module docstring)."""

    def __init__(self, content: Content, nlu_dir: Path | None = None):
        self.content = content
        nlu_dir = nlu_dir if nlu_dir is not None else content.root.parent / "nlu" / "data" / "nlu"
        intents = {_key(a) for a in content.answers.values() if a.topic not in _SKIP_TOPICS}
        docs = _answer_docs(content)
        docs += [_Doc(example, lang, intent)
                 for lang, intent, example in _training_examples(nlu_dir) if intent in intents]
        cleaned = [" ".join(tokens(d.text)) for d in docs]
        kept = [(d, c) for d, c in zip(docs, cleaned, strict=True) if c]
        self.docs = [d for d, _ in kept]
        # One small document per text (the closest text of an answer) ...
        self._texts = _Space([c for _, c in kept])
        self._text_langs = np.array([d.lang for d in self.docs])
        self._text_keys = [d.key for d in self.docs]
        # ... and one per answer and language, all its texts together (the most evidence).
        grouped: dict[tuple[str, str], list[str]] = {}
        for doc, clean in kept:
            grouped.setdefault((doc.key, doc.lang), []).append(clean)
        self._groups = list(grouped)
        self._all = _Space([" ".join(grouped[g]) for g in self._groups])
        self._group_langs = np.array([lang for _, lang in self._groups])

    def scores(self, text: str, lang: str) -> dict[str, float]:
        """Each intent's (or intent-less answer's) similarity to `text`, 0..1, over the
        texts in `lang` and in French: the closest text blended with all texts together."""
        clean = " ".join(tokens(text))
        if not clean or not self.docs:
            return {}
        langs = [lang, "fr"]
        word, char = self._texts.similarity(clean)
        closest = WORD_WEIGHT * word + (1 - WORD_WEIGHT) * char
        closest[(word == 0) & (char < CHAR_ONLY_MIN)] = 0.0
        closest[~np.isin(self._text_langs, langs)] = 0.0
        word, char = self._all.similarity(clean)
        together = WORD_WEIGHT * word + (1 - WORD_WEIGHT) * char
        together[~np.isin(self._group_langs, langs)] = 0.0
        best: dict[str, float] = {}
        for i in np.flatnonzero(closest):
            key = self._text_keys[i]
            best[key] = max(best.get(key, 0.0), float(closest[i]))
        pooled: dict[str, float] = {}
        for i in np.flatnonzero(together):
            key = self._groups[i][0]
            pooled[key] = max(pooled.get(key, 0.0), float(together[i]))
        return {key: (best.get(key, 0.0) + GROUP_WEIGHT * pooled.get(key, 0.0))
                / (1 + GROUP_WEIGHT) for key in best.keys() | pooled.keys()}

    def suggest(self, text: str, lang: str, country: str | None = None,
                limit: int = 3) -> list[Suggestion]:
        ranked = sorted(self.scores(text, lang).items(), key=lambda kv: (-kv[1], kv[0]))
        chosen: list[Suggestion] = []
        for key, score in ranked:
            if score < MIN_SCORE or (chosen and score < chosen[0].score * RELATIVE_CUTOFF):
                break
            answer = self._answer(key, country)
            if answer is None:
                continue  # only other countries' rules
            chosen.append(Suggestion(answer.id, answer.intents[0] if answer.intents else None,
                                     round(score, 4)))
            if len(chosen) == limit:
                break
        return chosen

    def _answer(self, key: str, country: str | None) -> Answer | None:
        if key.startswith("answer:"):
            answer = self.content.answers.get(key.removeprefix("answer:"))
            return answer if answer and (not country or country in answer.countries) else None
        found = self.content.answer_for(key, country)
        if found is None and not country:
            # Country rules and the country unknown: the dialogue asks it before answering.
            candidates = self.content.answers_for_intent(key)
            found = candidates[0] if candidates else None
        return found


_indexes: dict[tuple[str, str], ContentIndex] = {}
_lock = threading.Lock()


def index_for(content: Content) -> ContentIndex:
    """The index of this content load (built on first use, then kept)."""
    key = (str(content.root), content.fingerprint())
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = ContentIndex(content)
            for old in [k for k in _indexes if k[0] == key[0]]:
                del _indexes[old]
            _indexes[key] = index
        return index


def suggest(text: str, lang: str, country: str | None = None, limit: int = 3, *,
            content: Content | None = None) -> list[Suggestion]:
    """The answers closest to `text`, best first, for the user's country: at most `limit`,
    one per intent, none under `MIN_SCORE` (an empty list means "offer the menu").

    With `country` known, other countries' answers are left out; unknown, an intent's answer
    valid everywhere is preferred, else its best-matching country answer (the dialogue asks
    the country before showing it).
    """
    if content is None:
        from ._load import get_content

        content = get_content()
    return index_for(content).suggest(text, lang or "fr", country, limit)
