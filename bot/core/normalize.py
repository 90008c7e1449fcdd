"""Text normalization shared by NLU training and the gateway.

The same function runs on every training example (``bot.devtools.train``) and on every user
message before it reaches Rasa, so both sides see one spelling of each word:

* Unicode NFC, case folding, whitespace condensed;
* the special letters of the Manding, Pular and Wolof orthographies folded to plain ones
  (ɛ→e, ɔ→o, ɲ→ny, ŋ→ng, ɓ→b, ɗ→d, ƴ→y, ñ→ny) and accents removed, because most phones type
  "dinge" for *dingɛ* and "kenieba" for *Kéniéba*;
* runs of three or more identical letters shortened to two ("merciiii" → "mercii"; two are
  kept because Pular and Wolof write long vowels and geminates: *kaŋŋe*, *waaw*), and a few
  stretched French words brought back to one spelling ("ouiii", "bonsoiiir" → "oui", "bonsoir");
* French as West African texters write it, brought back to one spelling: SMS abbreviations
  (slt → salut, jvx → je veux, bcp, pk, tt, dc, ds, ct...), phonetic spellings (koman, kel,
  koi, bocou, kelkun, otorisation, mercur...), missing apostrophes (jai, cest, lor, dor, sil,
  lautorisation), and words that are also Bambara, Wolof or Pular words (ke, ki, ya, sa, o, pa,
  kan) only where the words around them are French ("ce ke je veux", "ya des", "c sa");
* numbers written as words turned into digits ("deux grammes" → "2 grammes", "cinq mille" →
  "5000"); "10 000" → "10000";
* emojis dropped, except the ones that mean a word (👍 👌 ✅ → "ok", 🙏 → "merci"); runs of
  the same punctuation shortened ("???" → "?").

Two kinds of text pass through untouched: Rasa payloads (``/choose{"choice": "country:ML"}``,
which must keep their case) and the annotation parts of a Rasa training example
(``[Guinée]{"entity": "country", "value": "GN"}`` keeps ``{...}``; ``[Siguiri](place)`` keeps
``(place)``), so ``normalize`` can be applied to raw training lines.

The word tables are in bot/core/spellings.py; this module applies them. The function is pure
and allocation-light; it is idempotent (``normalize(normalize(t)) ==
normalize(t)``).
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.spellings import (
    AFTER_ARTICLE_ONE,
    C_KEEP_AFTER,
    CONTEXTUAL,
    ELIDED_ANYWAY,
    ELIDED_WORDS,
    ELISION_FIRST,
    EMOJI_WORDS,
    LETTER_FOLDS,
    NOT_ELIDED,
    NUMBER_JOINERS,
    SCALES,
    SMS_ABBREVIATIONS,
    STRETCHED,
    UNITS,
)

__all__ = ["normalize", "fold_letters", "SMS_ABBREVIATIONS", "words_to_digits"]

_FOLD_TABLE = str.maketrans(LETTER_FOLDS)

_PAYLOAD = re.compile(r"^\s*/\w")
# The annotation tail of a Rasa example: ](entity) or ]{"entity": ...}.
_ANNOTATION = re.compile(r"(\]\([^()]*\)|\]\{[^{}]*\})")
# Letters only: "5000" and "10000" are amounts, not stretched words.
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_PUNCT_REPEATS = re.compile(r"([^\w\s'\[\](){}\":,-])\1+")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[\w']+")
_DIGITS = re.compile(r"\d")
# "10 000", "1 500 000": a thousands separator, not two numbers.
_THOUSANDS = re.compile(r"(?<!\d )\b(\d{1,3})((?: \d{3})+)\b(?! \d)")
_DIGIT_SCALE = re.compile(r"\b(\d+) ?(mille|mil|milles)\b")
_DOUBLED = re.compile(r"(\w)\1")
_EMOJI_WORD = re.compile("|".join(map(re.escape, EMOJI_WORDS)))
# Pictographs, dingbats, symbols, flags, skin tones, variation selectors, zero-width joiner.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF"
                    "\u2300-\u23FF\u25A0-\u25FF\uFE0E\uFE0F\u200D\u20E3]")


def fold_letters(text: str) -> str:
    """Casefold and fold special letters and accents to plain ASCII-like letters."""
    if text.isascii():
        return text.lower().replace("`", "'")
    text = unicodedata.normalize("NFC", text).casefold()
    # A doubled nasal (Pular kaŋŋe) is typed once on plain keyboards: "kange".
    text = text.replace("ŋŋ", "ŋ").replace("ɲɲ", "ɲ").replace("ññ", "ñ")
    text = text.translate(_FOLD_TABLE)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _drop_emojis(text: str) -> str:
    if text.isascii():
        return text
    if _EMOJI_WORD.search(text):
        text = _EMOJI_WORD.sub(lambda m: EMOJI_WORDS[m.group(0)], text)
    return _EMOJI.sub(" ", text)


def _unstretch(word: str) -> str:
    """"ouii" → "oui", "bonsoiir" → "bonsoir": a doubled letter undone only when that gives a
    known French word."""
    if word in STRETCHED or not _DOUBLED.search(word):
        return word
    single = _DOUBLED.sub(r"\1", word)
    if single in STRETCHED:
        return single
    return word


def _elide(word: str) -> str | None:
    """"lor" → "l'or", "lautorisation" → "l'autorisation", "quil" → "qu'il"."""
    if word in ELIDED_ANYWAY:
        return ELIDED_ANYWAY[word]
    if len(word) < 3 or word[0] not in ELISION_FIRST or word in NOT_ELIDED or "'" in word:
        return None
    prefix = "qu" if word.startswith("qu") else word[0]
    rest = word[len(prefix):]
    if rest in ELIDED_WORDS:
        return f"{prefix}'{rest}"
    return None


def words_to_digits(tokens: list[str]) -> list[str]:
    """French number words to digits: ["deux", "cent", "mille", "francs"] → ["200000",
    "francs"]. "un"/"une" alone stay articles and "mil" alone stays millet; "et" joins
    ("vingt et un"); "deux trois jours" stays two numbers."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        total = current = 0
        j = i
        while j < n:
            tok = tokens[j]
            if tok in UNITS:
                v = UNITS[tok]
                tens = current % 100
                if j > i and tokens[j - 1] in SCALES and SCALES[tokens[j - 1]] >= 1000 \
                        and current == 0:
                    current = v  # "mille cinq (cents)"
                elif current == 0 and j == i:
                    current = v
                elif current and tens == 0 and v < 100:
                    current += v  # "deux cent cinq"
                elif v == 20 and tens == 4:
                    current += 76  # "quatre vingt"
                elif tens in (20, 30, 40, 50) and v < 10:
                    current += v  # "vingt cinq"
                elif tens in (10, 70, 90) and v < 10:
                    current += v  # "dix-sept", "soixante-dix-sept"
                elif tens in (60, 80) and v < 20:
                    current += v  # "soixante dix", "quatre vingt dix"
                else:
                    break
            elif tok in SCALES:
                scale = SCALES[tok]
                if scale == 100:
                    if current >= 100:
                        break
                    current = (current or 1) * 100
                else:
                    if j == i and tok == "mil":
                        break  # millet
                    total += (current or 1) * scale
                    current = 0
            elif tok in NUMBER_JOINERS:
                if not (current % 100 in (20, 30, 40, 50, 60) and j + 1 < n
                        and tokens[j + 1] in ("un", "une", "onze")):
                    break
            elif tok.isdigit() and j == i and j + 1 < n and tokens[j + 1] in SCALES \
                    and SCALES[tokens[j + 1]] >= 1000:
                current = int(tok)  # "5 mille"
            else:
                break
            j += 1
        span = tokens[i:j]
        if not span or span in (["un"], ["une"]) or (len(span) == 1 and span[0].isdigit()):
            out.append(tokens[i])
            i += 1
        else:
            out.append(str(total + current))
            i = j
    return out


def _fr_context(word: str, before: str | None, after: str | None) -> str | None:
    """The French reading of a word that is also a local-language word, when the words
    around it are French; else None."""
    rule = CONTEXTUAL.get(word)
    if rule is None:
        return None
    french, after_words, before_words = rule
    if word == "sa":
        # "c'est sa femme": "sa" is French "his"; "c sa", "pas sa" at the end, "sa va": "ca".
        if after in before_words or (after is None and before in after_words):
            return french
        return None
    if word == "ya" and before == "il":
        return "y a"  # "il ya des chinois"
    if word == "wi":
        return french if after is None and (before is None or before in after_words) else None
    if (before is not None and before in after_words) or (
            after is not None and after in before_words):
        return french
    return None


def _expand_token(word: str, before: str | None, after: str | None) -> str:
    if word == "1":
        # "1 homme", "1 vrai personne": the article typed as a digit ("option 1" and
        # Bambara "n ye 1 sugandi" stay).
        return "un" if after in AFTER_ARTICLE_ONE else word
    if word in CONTEXTUAL:
        return _fr_context(word, before, after) or word
    expansion = SMS_ABBREVIATIONS.get(word)
    if expansion is not None:
        return expansion
    if word == "c":
        if before in ("je", "j"):
            return "sais"  # "je c pa" → "je sais pas"
        # "c bon" → "c'est bon"; keep "option c", a final "c" and "c'" forms.
        if after is not None and after[0].isalpha() and before not in C_KEEP_AFTER:
            return "c'est"
        return word
    if word == "g":
        # "g compris" → "j'ai compris", but "2 g d'or" stays grams.
        if after is not None and after[0].isalpha() and not (
                before is not None and _DIGITS.search(before)):
            return "j'ai"
        return word
    elided = _elide(word)
    if elided is not None:
        return elided
    return _unstretch(word)


def _may_change(word: str) -> bool:
    """A cheap test: can _expand_token rewrite this word at all?"""
    return (word in SMS_ABBREVIATIONS or word in CONTEXTUAL or word in ("c", "g", "1")
            or word in ELIDED_ANYWAY
            or (len(word) > 2 and word[0] in ELISION_FIRST)
            or (len(word) > 1 and _DOUBLED.search(word) is not None))


_PRE_FOLD = [
    (re.compile(r"(?<![\w'])j[éè](?![\w'])"), "j'ai"),  # "jé compris"
    (re.compile(r"(?<![\w'])c[éè](?![\w'])"), "c'est"),  # "cé bon"
]


def _pass(text: str) -> str:
    """One pass of word-level rewriting over folded text."""
    parts = _TOKEN.split(text)
    words = _TOKEN.findall(text)
    expanded: list[str] = []
    for k, word in enumerate(words):
        if not _may_change(word):
            expanded.append(word)
            continue
        # A neighbour across punctuation ("ya, danger") is no context.
        before = expanded[-1].rsplit(" ", 1)[-1] if k and not parts[k].strip() else None
        after = words[k + 1] if k + 1 < len(words) and not parts[k + 1].strip() else None
        expanded.append(_expand_token(word, before, after))
    text = parts[0] + "".join(w + p for w, p in zip(expanded, parts[1:], strict=False))
    if _DIGITS.search(text) or any(w in UNITS or w in SCALES for w in words):
        text = _numbers(text)
    return text


def _normalize_plain(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    if "é" in text or "è" in text:
        for pattern, repl in _PRE_FOLD:
            text = pattern.sub(repl, text)
    text = fold_letters(_drop_emojis(text))
    text = _REPEATS.sub(r"\1\1", text)
    text = _PUNCT_REPEATS.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return text
    # A rewritten word can make its neighbour readable ("ya pa" → "il y a pa" → "il y a
    # pas"): repeat until nothing changes (two passes for almost every message).
    for _ in range(4):
        again = _pass(text)
        if again == text:
            break
        text = again
    return text


def _numbers(text: str) -> str:
    text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)
    text = _DIGIT_SCALE.sub(lambda m: str(int(m.group(1)) * 1000), text)
    parts = _TOKEN.split(text)
    words = _TOKEN.findall(text)
    if not any(w in UNITS or w in SCALES for w in words):
        return text
    out = [parts[0]]
    k = 0
    while k < len(words):
        # A run of number words (and a digit before "mille"), joined by a space or a hyphen.
        j = k
        while j + 1 < len(words) and parts[j + 1] in (" ", "-") and (
                words[j + 1] in UNITS or words[j + 1] in SCALES
                or words[j + 1] in NUMBER_JOINERS):
            j += 1
        run = words[k:j + 1]
        converted = words_to_digits(run)
        if converted == run:
            out += [words[k], parts[k + 1]]
            k += 1
            continue
        out.append(" ".join(converted))
        out.append(parts[j + 1])
        k = j + 1
    return "".join(out)


def normalize(text: str) -> str:
    """Return the canonical form of a user message or training example.

    >>> normalize("  Slt, jvx vendre mon OR à Kéniéba!! ")
    "salut, je veux vendre mon or a kenieba!"
    """
    if not text:
        return ""
    if _PAYLOAD.match(text):
        return text.strip()
    if "](" not in text and "]{" not in text:
        return _normalize_plain(text)
    parts = _ANNOTATION.split(text)
    # Odd indexes are annotation tails, kept verbatim; they start with "]".
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            leading = " " if part[:1].isspace() and i else ""
            trailing = " " if part[-1:].isspace() and i < len(parts) - 1 else ""
            out.append(leading + _normalize_plain(part) + trailing)
    return "".join(out).strip()
