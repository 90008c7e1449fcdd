"""Text normalisation shared by NLU training and the gateway.

The same function runs on every training example (``bot.devtools.train``) and on every user
message before it reaches Rasa, so both sides see one spelling of each word:

* Unicode NFC, case folding, whitespace condensed;
* the special letters of the Manding, Pular and Wolof orthographies folded to plain ones
  (ɛ→e, ɔ→o, ɲ→ny, ŋ→ng, ɓ→b, ɗ→d, ƴ→y, ñ→ny) and accents removed, because most phones type
  "dinge" for *dingɛ* and "kenieba" for *Kéniéba*;
* runs of three or more identical letters shortened to two ("merciiii" → "mercii"; two are
  kept because Pular and Wolof write long vowels and geminates: *kaŋŋe*, *waaw*);
* common French SMS abbreviations expanded (slt → salut, jvx → je veux, ...).

Two kinds of text pass through untouched: Rasa payloads (``/choose{"choice": "country:ML"}``,
which must keep their case) and the annotation parts of a Rasa training example
(``[Guinée]{"entity": "country", "value": "GN"}`` keeps ``{...}``; ``[Siguiri](place)`` keeps
``(place)``), so ``normalize`` can be applied to raw training lines.

The function is pure and allocation-light; it is idempotent (``normalize(normalize(t)) ==
normalize(t)``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "fold_letters", "SMS_ABBREVIATIONS"]

# Letters that NFD does not decompose; folded before accents are stripped.
_LETTER_FOLDS = {
    "ɛ": "e",
    "ε": "e",  # Greek epsilon, typed for ɛ on phones without an African keyboard
    "ɔ": "o",
    "ↄ": "o",
    "ɲ": "ny",
    "ñ": "ny",  # Wolof/Pular ñ is the same sound as Manding ɲ
    "ŋ": "ng",
    "ɓ": "b",
    "ɗ": "d",
    "ƴ": "y",
    "ʼ": "'",
    "’": "'",
    "‘": "'",
    "`": "'",
    "´": "'",
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
}
_FOLD_TABLE = str.maketrans(_LETTER_FOLDS)

# French SMS spellings → full words. Chosen so that none is also a common word of bm, emk,
# ff, snk or wo once their special letters are folded (which is why "ke", "ki", "ya", "sa",
# "kan" and "pa" are absent: *kɛ*, *ya*, *sa*, *kan* are Bambara words).
SMS_ABBREVIATIONS: dict[str, str] = {
    "slt": "salut",
    "bjr": "bonjour",
    "bjour": "bonjour",
    "bsr": "bonsoir",
    "koi": "quoi",
    "kwa": "quoi",
    "pr": "pour",
    "svp": "s'il vous plait",
    "stp": "s'il te plait",
    "jvx": "je veux",
    "jveux": "je veux",
    "jveu": "je veux",
    "jvoudrais": "je voudrais",
    "cmt": "comment",
    "cmnt": "comment",
    "koman": "comment",
    "tjr": "toujours",
    "tjrs": "toujours",
    "bcp": "beaucoup",
    "pq": "pourquoi",
    "pk": "pourquoi",
    "pkoi": "pourquoi",
    "pcq": "parce que",
    "pck": "parce que",
    "qd": "quand",
    "kand": "quand",
    "ds": "dans",
    "dc": "donc",
    "mrc": "merci",
    "mci": "merci",
    "mrci": "merci",
    "dsl": "desole",
    "pb": "probleme",
    "pbm": "probleme",
    "qqch": "quelque chose",
    "qqn": "quelqu'un",
    "qlq": "quelque",
    "qq": "quelques",
    "tt": "tout",
    "ts": "tous",
    "ns": "nous",
    "vs": "vous",
    "mm": "meme",
    "bn": "bien",
    "auj": "aujourd'hui",
    "ajd": "aujourd'hui",
    "jsp": "je sais pas",
    "jpp": "je peux pas",
    "jpx": "je peux",
    "jcrois": "je crois",
    "chui": "je suis",
    "chuis": "je suis",
    "jsuis": "je suis",
    "dacc": "d'accord",
    "dac": "d'accord",
    "daccord": "d'accord",
    "infos": "informations",
    "info": "information",
    "kel": "quel",
    "kelle": "quelle",
    "kom": "comme",
    "mw": "moi",
    "twa": "toi",
    "jai": "j'ai",
}

# Tokens after which a lone "c" is a choice letter, not "c'est".
_C_KEEP_AFTER = {"option", "choix", "reponse", "lettre", "point", "le", "la"}
_PAYLOAD = re.compile(r"^\s*/\w")
# The annotation tail of a Rasa example: ](entity) or ]{"entity": ...}.
_ANNOTATION = re.compile(r"(\]\([^()]*\)|\]\{[^{}]*\})")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[\w']+")
_DIGITS = re.compile(r"\d")


def fold_letters(text: str) -> str:
    """Casefold and fold special letters and accents to plain ASCII-like letters."""
    text = unicodedata.normalize("NFC", text).casefold()
    # A doubled nasal (Pular kaŋŋe) is typed once on plain keyboards: "kange".
    text = text.replace("ŋŋ", "ŋ").replace("ɲɲ", "ɲ").replace("ññ", "ñ")
    text = text.translate(_FOLD_TABLE)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _expand(match: re.Match[str], text: str) -> str:
    word = match.group(0)
    expansion = SMS_ABBREVIATIONS.get(word)
    if expansion is not None:
        return expansion
    if word == "c":
        before = text[: match.start()].split()
        after = text[match.end():].lstrip()
        # "c bon" → "c'est bon"; keep "option c", a final "c" and "c'" forms.
        if (
            after
            and after[0].isalpha()
            and not (before and before[-1].strip("'") in _C_KEEP_AFTER)
        ):
            return "c'est"
    if word == "g":
        # "g compris" → "j'ai compris", but "2 g d'or" stays grams.
        before = text[: match.start()].split()
        after = text[match.end():].lstrip()
        if after and after[0].isalpha() and not (before and _DIGITS.search(before[-1])):
            return "j'ai"
    return word


def _normalize_plain(text: str) -> str:
    text = fold_letters(text)
    text = _REPEATS.sub(r"\1\1", text)
    text = _SPACES.sub(" ", text).strip()
    return _TOKEN.sub(lambda m: _expand(m, text), text)


def normalize(text: str) -> str:
    """Return the canonical form of a user message or training example.

    >>> normalize("  Slt, jvx vendre mon OR à Kéniéba!! ")
    "salut, je veux vendre mon or a kenieba!!"
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
