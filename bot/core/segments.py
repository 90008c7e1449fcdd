"""Long messages: split them into questions, find the strongest, note the others.

Miners often tell a whole story before their question ("je suis a kenieba depuis 3 ans, le
chef de site nous a dit... ou je peux vendre mon or ?"). The classifier, fed the whole story,
hesitates between everything it mentions. The gateway therefore splits a long typed message
(`split_sentences`), has Rasa parse each part (`/model/parse`), sends Rasa the part that is the
strongest question (`strongest`) and passes the other parts' intents (names only, never their
text) as `other_intents`, which the dialogue offers as choices after its answer.

Safety first: a part that reads as a violence disclosure always wins (the disclosure
detector, `bot.core.disclosure.detect`, when it is installed; the `violence_help` intent in
any case), and a whole message the detector flags is never split at all (`keep_whole`), so
the detector in the dialogue sees all of it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["split_sentences", "strongest", "other_intents", "keep_whole", "is_content",
           "MAX_SEGMENTS", "SHORT_MESSAGE_WORDS"]

MAX_SEGMENTS = 4
SHORT_MESSAGE_WORDS = 12   # a message this short is one question: never split
MIN_SEGMENT_WORDS = 3      # a shorter part ("ok", "bonjour") joins its neighbour
# Another part's intent is offered when the classifier leans to it this much (under Rasa's
# fallback threshold too: a button offered costs little, a topic dropped is lost).
OTHER_MIN_CONFIDENCE = 0.4
QUESTION_BONUS = 0.1        # a part that is a question beats a statement of equal confidence
# Intents that are not a question: never the strongest part, never offered as another topic.
NOT_CONTENT = frozenset({"greet", "thanks", "affirm", "deny", "inform", "nlu_fallback",
                         "out_of_scope", "choose", "menu", "go_back", "more", "goodbye"})
VIOLENCE = "violence_help"

# Sentence ends and line breaks; then the phrases that introduce another question.
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=\?)(?=\S)")
_NEXT_QUESTION = re.compile(
    r"\s*,?\s*\b(?:et aussi|autre question|une autre question|deuxieme question|"
    r"deuxième question|(?:svp|stp|s'il vous plait|s'il vous plaît|s'il te plait)\b"
    r"(?=\s*\w))\s*[:,]?\s*", re.IGNORECASE)
_QUESTION_WORDS = re.compile(
    r"\?|^\s*(?:comment|ou|où|quand|qui|quel|quelle|quels|quelles|pourquoi|combien|"
    r"est[- ]ce|a qui|à qui|peut|peux|puis|dois|doit|faut)\b", re.IGNORECASE)


def _words(text: str) -> int:
    return len(text.split())


def split_sentences(text: str, limit: int = MAX_SEGMENTS) -> list[str]:
    """The questions of a message, in order: split at sentence ends, line breaks and
    phrases that start another question ("et aussi", "autre question", a "svp" in the middle).

    A short message is returned whole; parts of fewer than three words join the part that
    follows (or the one before, at the end); never more than `limit` parts (the closest
    neighbours are joined), and all of the text is kept.
    """
    text = (text or "").strip()
    if _words(text) < SHORT_MESSAGE_WORDS:
        return [text] if text else []
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for piece in _NEXT_QUESTION.split(sentence):
            piece = piece.strip(" ,;:-")
            if piece:
                parts.append(piece)
    merged: list[str] = []
    carry = ""
    for part in parts:
        part = f"{carry} {part}".strip() if carry else part
        if _words(part) < MIN_SEGMENT_WORDS:
            carry = part
        else:
            merged.append(part)
            carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    while len(merged) > max(1, limit):
        # Join the shortest adjacent pair: the least of the text is mixed.
        i = min(range(len(merged) - 1), key=lambda k: _words(merged[k]) + _words(merged[k + 1]))
        merged[i:i + 2] = [f"{merged[i]} {merged[i + 1]}"]
    return merged


def _intent(parse: dict[str, Any]) -> tuple[str | None, float]:
    intent = parse.get("intent") or {}
    name = intent.get("name")
    try:
        confidence = float(intent.get("confidence") or 0.0)
    except (TypeError, ValueError):
        confidence = 0.0
    if name == "nlu_fallback":  # the classifier's own leaning, for the ranking only
        return name, 0.0
    return name, confidence


def _leaning(parse: dict[str, Any]) -> tuple[str | None, float]:
    """The intent the classifier leans to, even under a fallback (its ranking's best)."""
    name, confidence = _intent(parse)
    if name != "nlu_fallback":
        return name, confidence
    for ranked in parse.get("intent_ranking") or []:
        if ranked.get("name") and ranked["name"] != "nlu_fallback":
            try:
                return ranked["name"], float(ranked.get("confidence") or 0.0)
            except (TypeError, ValueError):
                return ranked["name"], 0.0
    return name, 0.0


def is_content(parse: dict[str, Any]) -> bool:
    """Is this part a question the assistant answers (not a greeting, a thank-you...)?"""
    name, _ = _intent(parse)
    return bool(name) and name not in NOT_CONTENT


def _disclosure(text: str, levels: tuple[str, ...] = ("sure",)) -> float:
    """The detector's score when it flags the text at one of `levels` (else 0; 0 when the
    detector is not installed)."""
    try:
        from bot.core.disclosure import detect
    except ImportError:  # pragma: no cover - the detector ships with the app
        return 0.0
    found = detect(text)
    return max(float(found.score or 0.0), 1.0) if found.level in levels else 0.0


def keep_whole(text: str) -> bool:
    """True when the whole message may be a disclosure (even "unsure"): it is then never
    split, so that the dialogue's detector reads all of it and offers help first."""
    return _disclosure(text, ("sure", "unsure")) > 0


def strongest(parses: list[dict[str, Any]]) -> int:
    """The index of the part that is the strongest question.

    A part the disclosure detector is sure of wins (the highest score; an "unsure" message
    is not split at all, see `keep_whole`), then a part parsed
    as `violence_help`; otherwise the highest confidence among content intents (greetings,
    thanks, yes/no and bare information do not count), a question beating a statement by
    `QUESTION_BONUS`. With no content intent at all, the most confident part (the caller
    then sends the whole message)."""
    if not parses:
        raise ValueError("no parse")
    flagged = [(_disclosure(p.get("text") or ""), i) for i, p in enumerate(parses)]
    score, index = max(flagged, key=lambda si: (si[0], -si[1]))
    if score > 0:
        return index
    violent = [(_intent(p)[1], i) for i, p in enumerate(parses) if _intent(p)[0] == VIOLENCE]
    if violent:
        return max(violent, key=lambda ci: (ci[0], -ci[1]))[1]

    def weight(i: int) -> float:
        parse = parses[i]
        bonus = QUESTION_BONUS if _QUESTION_WORDS.search(parse.get("text") or "") else 0.0
        return _intent(parse)[1] + bonus

    content = [i for i, p in enumerate(parses) if is_content(p)]
    pool = content or list(range(len(parses)))
    # Ties go to the later part: the question usually comes after the story.
    return max(pool, key=lambda i: (weight(i), i))


def other_intents(parses: list[dict[str, Any]], chosen: int) -> list[str]:
    """The content intents the other parts lean to (`OTHER_MIN_CONFIDENCE`, even under the
    fallback threshold), each once, in order."""
    main = _intent(parses[chosen])[0]
    found: list[str] = []
    for i, parse in enumerate(parses):
        name, confidence = _leaning(parse)
        if (i != chosen and name and name not in NOT_CONTENT and name != main
                and name not in found and confidence >= OTHER_MIN_CONFIDENCE):
            found.append(name)
    return found
