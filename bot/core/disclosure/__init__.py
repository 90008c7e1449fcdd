"""A safety net for violence disclosures, independent of the Rasa intent classifier.

    from bot.core.disclosure import detect
    found = detect("mon patron veut que je dorme avec lui sinon il me renvoie")
    found.level   # "sure" | "unsure" | "none"
    found.kind    # "sexual_coercion", "rape", "sexual_harassment", "domestic_violence",
                  # "child_abuse", "threat", "physical_assault" (None when level is "none")

It weighs cues found in the text (an act done to a person, an actor, a victim, a sexual or
lethal context, a child) and subtracts cues of a harmless reading (a rock, the rain, a
machine, an accident). It is tuned for recall: an "unsure" result is meant to be offered
help, not routed. The cue tables are data (``lexicon/<lang>.yml``); every table is applied to
every message, because people mix languages and a language guess is unreliable on a line.

The result carries no copy of the text: only the level, the kind, the score and the ids of
the cues that fired (names from the tables, never words of the message).
"""

from bot.core.disclosure.engine import KINDS, LEVELS, Detection, detect, key, segments

__all__ = ["Detection", "KINDS", "LEVELS", "detect", "key", "segments"]
