"""Guess the language of a first message, to PROPOSE it (the user confirms with a button).

    >>> guess_language("dama bëgg jaay sama wurus")
    ('wo', 0.9...)

A small multinomial naive Bayes over character 1–4-grams, trained at import time from the
NLU training examples (``nlu/data/nlu/<lang>.yml``; about 3 000 lines, well under a second).
No special letter is folded here, unlike ``normalize``: ɛ, ɔ, ɗ, ë, ñ are strong clues, and the
training data holds every example with and without them. Manding varieties (bm, emk) are
close and often confused; ``confidence`` says how sure the guess is (0..1), and callers should
fall back to asking when it is low (below ~0.5) or the message is very short.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

from bot.facts import LANGUAGE_CODES

__all__ = ["guess_language", "LanguageGuesser", "LANGUAGES"]

LANGUAGES = LANGUAGE_CODES
DATA_DIR = Path(__file__).resolve().parents[2] / "nlu" / "data" / "nlu"
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_NOT_LETTER = re.compile(r"[^\w']+")
_DIGITS = re.compile(r"\d+")
_MAX_N = 4
_ALPHA = 0.1  # additive smoothing
# Softmax temperature on the per-n-gram average log-likelihood: keeps confidence honest for
# short messages instead of the near-certainty raw naive Bayes gives.
_SHARPNESS = 6.0


def _prepare(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = text.replace("’", "'").replace("ʼ", "'")
    text = _DIGITS.sub(" ", text)
    return " ".join(_NOT_LETTER.sub(" ", text).split())


def _ngrams(text: str) -> list[str]:
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(1, _MAX_N + 1):
            grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return grams


def _read_examples(path: Path) -> list[str]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("- ") and not stripped.startswith("- intent:") \
                and not stripped.startswith("- lookup:") and not stripped.startswith("- synonym:"):
            examples.append(_ANNOTATION.sub(r"\1", stripped[2:]))
    return examples


class LanguageGuesser:
    """Naive Bayes over character n-grams, one class per language."""

    def __init__(self, corpus: dict[str, list[str]]):
        self.languages = tuple(corpus)
        self.counts: dict[str, Counter[str]] = {}
        self.totals: dict[str, int] = {}
        vocabulary: set[str] = set()
        for lang, texts in corpus.items():
            counts: Counter[str] = Counter()
            for text in texts:
                counts.update(_ngrams(_prepare(text)))
            self.counts[lang] = counts
            self.totals[lang] = sum(counts.values())
            vocabulary.update(counts)
        self.vocabulary_size = len(vocabulary) + 1

    def scores(self, text: str) -> dict[str, float]:
        """Probability of each language for ``text`` (sums to 1)."""
        grams = _ngrams(_prepare(text))
        if not grams:
            return {lang: 1 / len(self.languages) for lang in self.languages}
        loglik = {}
        for lang in self.languages:
            counts, denominator = self.counts[lang], self.totals[lang] + _ALPHA * \
                self.vocabulary_size
            loglik[lang] = sum(math.log((counts.get(g, 0) + _ALPHA) / denominator)
                               for g in grams) / len(grams)
        best = max(loglik.values())
        exp = {lang: math.exp(_SHARPNESS * (v - best)) for lang, v in loglik.items()}
        total = sum(exp.values())
        return {lang: v / total for lang, v in exp.items()}

    def guess(self, text: str) -> tuple[str, float]:
        scores = self.scores(text)
        lang = max(scores, key=scores.__getitem__)
        return lang, scores[lang]


@lru_cache(maxsize=1)
def _default_guesser() -> LanguageGuesser:
    corpus = {lang: _read_examples(DATA_DIR / f"{lang}.yml") for lang in LANGUAGES
              if (DATA_DIR / f"{lang}.yml").exists()}
    return LanguageGuesser(corpus)


def guess_language(text: str) -> tuple[str, float]:
    """Return ``(code, confidence)``: the most likely of fr, bm, emk, ff, snk, wo.

    Empty or digit-only text returns ``("fr", <low>)``: French is the default written language.
    """
    guesser = _default_guesser()
    if not _prepare(text):
        return "fr", 1 / len(guesser.languages)
    return guesser.guess(text)


# Train at import time, as the gateway imports this on startup rather than on a first message.
_default_guesser()
