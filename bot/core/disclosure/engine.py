"""The disclosure detector: text keying, the cue tables, and the score of a message.

Scoring, per segment (the whole message and each of its sentences):

* an **act** (``act`` table: hit, rape, touch, force, threaten...) is needed for any score
  above the ``distress`` cues ("j'ai peur de lui", "il me fait du mal"); ``phrase`` cues are
  acts that already say who suffered (``viol``, ``violence conjugale``);
* the act is worth more when a **victim** is near it (an object pronoun within a few words:
  "il *m'a* frappée", Bambara "a ye *n* gosi", Wolof "dafa *ma* dóor"), or a person is named
  anywhere in the segment ("ma femme", "une fille", "les enfants");
* an **actor** (a man, a husband, a boss, a policeman, "il", "on"), a **sexual** context
  ("coucher", "seins", "chambre") or a **harm** context ("tuer", "couteau") adds to it;
* a **negative** cue (the rock, the rain, a machine, an accident) takes the score down when
  no human actor is named: "la roche m'a frappé" is an accident, "le chef m'a frappé" is not;
* a **child** cue makes any fired act a case of child abuse (never a child-labour question).

``sure`` needs SURE points, ``unsure`` UNSURE points. Cues found only by adding up separate
sentences of a long message give at most ``unsure``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.normalize import fold_letters, normalize

KINDS = ("sexual_coercion", "rape", "sexual_harassment", "domestic_violence", "child_abuse",
         "threat", "physical_assault")
LEVELS = ("none", "unsure", "sure")
SURE = 3.0
UNSURE = 2.0
NEAR = 3  # tokens between a victim pronoun and its act
LEXICON_DIR = Path(__file__).with_name("lexicon")
CATEGORIES = ("phrase", "act", "actor", "victim", "sexual", "harm", "condition", "child",
              "negative", "distress")
# Cues that can stand for the act itself ("il veut que je dorme chez lui" has no violent verb);
# weak sexual cues ("la nuit", 0.5) only add to an act.
ACT_LIKE = ("phrase", "act", "sexual")
# Cues that add to an act; one (the strongest) per category.
CONTEXTS = ("sexual", "harm", "condition", "child")
# Act kinds that depend on the context: "force" is sexual coercion only with a sexual cue.
_CONTEXT_KINDS = {"coercion": ("sexual_coercion", "threat")}

_SEGMENT = re.compile(r"[.!?;\n\r]+|\s(?:mais|puis|ensuite|apres|donc|alors)\s")
_NON_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")
_PHONETIC = (("eau", "o"), ("ou", "u"), ("gn", "ny"), ("qu", "k"), ("ph", "f"), ("kh", "x"))
_DOUBLE = re.compile(r"([a-z])\1+")
_PATTERN_WORD = re.compile(r"(?<!\\)[^\W\d_]+")


# ---- keying: one spelling per word, for the text and the cue patterns alike ---------------
def _key_word(word: str) -> str:
    for old, new in _PHONETIC:
        word = word.replace(old, new)
    return _DOUBLE.sub(r"\1", word)


def key(text: str) -> str:
    """The matching form of a text: normalized (SMS spellings, accents, special letters),
    punctuation and apostrophes turned to spaces, and a phonetic folding that makes the
    spellings people type meet (ou→u, gn→ny, qu→k, kh→x, doubled letters single):
    "Dagnou ma dóor" and "dañu ma door" both become "danyu ma dor"."""
    text = _NON_WORD.sub(" ", normalize(text).replace("_", " "))
    return _SPACES.sub(" ", " ".join(_key_word(w) for w in text.split())).strip()


def _key_pattern(pattern: str) -> str:
    """Key the letters of a regex (not its escapes), so cues are written in plain spelling."""
    return _PATTERN_WORD.sub(lambda m: _key_word(fold_letters(m.group(0))), pattern)


def segments(text: str) -> list[str]:
    """The sentences of a message (clauses joined by "mais", "puis"... count as sentences)."""
    parts = [p.strip() for p in _SEGMENT.split(text or "")]
    return [p for p in parts if p and any(ch.isalnum() for ch in p)]


# ---- the tables -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Cue:
    id: str
    category: str
    regex: re.Pattern
    weight: float
    kind: str | None = None
    pronoun: bool = False  # actor: "il", "on" (does not outweigh a negative cue)
    near: str | None = None  # victim: counts only "before", "after" or "any" side of an act
    spouse: bool = False  # actor: a husband or partner (domestic violence)
    always: bool = False  # negative: applies even when a person is named (money, work)


@dataclass(frozen=True)
class Lexicon:
    cues: dict[str, tuple[Cue, ...]]
    not_actor_after: tuple[re.Pattern, ...]  # "la jambe *de mon oncle*": not an actor
    not_agent_before: tuple[re.Pattern, ...]  # "frappé *avec une* pierre": a weapon


_DEFAULT_WEIGHT = {"phrase": SURE, "act": 1.5, "actor": 0.75, "victim": 0.75, "sexual": 1.5,
                   "harm": 1.0, "condition": 0.75, "child": 0.75, "negative": 2.0,
                   "distress": UNSURE}


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    tables: dict[str, list[Cue]] = {c: [] for c in CATEGORIES}
    not_actor, not_agent = [], []
    for path in sorted(LEXICON_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lang = data.get("lang", path.stem)
        elision = bool(data.get("elision"))
        for category in CATEGORIES:
            for n, entry in enumerate(data.get(category) or []):
                tables[category].append(_cue(lang, category, n, entry, elision))
        if data.get("not_actor_after"):
            not_actor.append(re.compile(
                r"\b(?:" + _key_pattern(data["not_actor_after"]) + r") (?:\w+ )?$"))
        if data.get("not_agent_before"):
            not_agent.append(re.compile(
                r"\b(?:" + _key_pattern(data["not_agent_before"]) + r") (?:\w+ )?$"))
    return Lexicon({c: tuple(cues) for c, cues in tables.items()}, tuple(not_actor),
                   tuple(not_agent))


def _cue(lang: str, category: str, n: int, entry: dict, elision: bool) -> Cue:
    kind = entry.get("kind")
    if kind is not None and kind not in KINDS and kind not in _CONTEXT_KINDS:
        raise ValueError(f"disclosure lexicon {lang}/{category}: unknown kind {kind!r}")
    near = entry.get("near")
    if near not in (None, "before", "after", "any"):
        raise ValueError(f"disclosure lexicon {lang}/{category}: bad near {near!r}")
    # French glues elided pronouns and articles in SMS: "lacheteur", "menferme", "dequipe".
    glue = r"(?:[ldmtsjn](?=[aeiouy]\w{3}))?" if elision else ""
    pattern = r"\b" + glue + r"(?:" + _key_pattern(entry["re"]) + r")\b"
    return Cue(id=f"{lang}.{category}.{entry.get('id', n)}", category=category,
               regex=re.compile(pattern),
               weight=float(entry.get("w", _DEFAULT_WEIGHT[category])), kind=kind,
               pronoun=bool(entry.get("pronoun")), near=near,
               spouse=bool(entry.get("spouse")), always=bool(entry.get("always")))


# ---- detection ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detection:
    level: str = "none"
    kind: str | None = None
    score: float = 0.0
    cues: tuple[str, ...] = field(default_factory=tuple)  # cue ids, never words of the text

    @property
    def sure(self) -> bool:
        return self.level == "sure"

    @property
    def positive(self) -> bool:
        return self.level != "none"


@dataclass
class _Match:
    cue: Cue
    start: int  # token index of the first word
    end: int  # token index of the last word
    at: int  # character offset in the keyed text


def _matches(keyed: str, cues: tuple[Cue, ...]) -> list[_Match]:
    found = []
    for cue in cues:
        for m in cue.regex.finditer(keyed):
            start = keyed.count(" ", 0, m.start())
            found.append(_Match(cue, start, start + keyed.count(" ", m.start(), m.end()),
                                m.start()))
    return found


def _strongest(pool: list[_Match]) -> _Match | None:
    return max(pool, key=lambda m: m.cue.weight, default=None)


def _near(victim: _Match, act: _Match) -> bool:
    side = victim.cue.near
    before = act.start - NEAR <= victim.end <= act.start
    after = act.end <= victim.start <= act.end + NEAR
    return (side in ("before", "any") and before) or (side in ("after", "any") and after)


def _score(keyed: str) -> Detection:
    lex = lexicon()
    hits = {c: _matches(keyed, lex.cues[c]) for c in CATEGORIES}
    hits["actor"] = [a for a in hits["actor"]
                     if not any(p.search(keyed[:a.at]) for p in lex.not_actor_after)]
    nouns = [v for v in hits["victim"] if v.cue.near is None]
    act_value, act = 0.0, None
    for candidate in [m for c in ACT_LIKE for m in hits[c] if m.cue.weight >= 1.0]:
        person = _strongest(nouns + [v for v in hits["victim"]
                                     if v.cue.near and _near(v, candidate)])
        value = candidate.cue.weight + (person.cue.weight if person else 0.0)
        if value > act_value:
            act_value, act = value, candidate
    if act is not None:  # a person right after the act is its object: "blessé mon frère"
        hits["actor"] = [a for a in hits["actor"] if not act.end < a.start <= act.end + 2]
    for passive in [v for v in hits["victim"] if act is not None
                    and v.cue.id.endswith(".passive") and _near(v, act)]:
        # "mon frère est blessé": the subject of a passive is the victim, not the actor.
        hits["actor"] = [a for a in hits["actor"]
                         if not passive.start - 2 <= a.end < passive.start]
    actor = _strongest(hits["actor"])
    distress = _strongest(hits["distress"])
    fired: list[str] = []
    if act is None:
        score = distress.cue.weight if distress else 0.0
        fired += [distress.cue.id] if distress else []
    else:
        score = act_value
        fired.append(act.cue.id)
        extras = [actor] + [_strongest([m for m in hits[c] if m.end < act.start
                                        or m.start > act.end]) for c in CONTEXTS]
        for extra in extras:
            if extra is not None:
                score += extra.cue.weight
                fired.append(extra.cue.id)
        if distress is not None:
            score += 0.5
            fired.append(distress.cue.id)
    penalty = _penalty(keyed, act, hits, lex)
    if penalty is not None:
        score -= penalty.cue.weight
        fired.append(penalty.cue.id)
    level = "sure" if score >= SURE else "unsure" if score >= UNSURE else "none"
    if level == "none":
        return Detection(score=round(score, 2), cues=tuple(fired))
    return Detection(level, _kind(act, distress, hits), round(score, 2), tuple(fired))


def _penalty(keyed: str, act: _Match | None, hits: dict[str, list[_Match]],
             lex: Lexicon) -> _Match | None:
    """The negative cue that applies: a harmless agent or object of the act ("la roche",
    "la pluie", "la machine") unless a person is named as the actor. A thing named after the
    act behind a preposition ("frappée avec une pierre", "derrière les machines") is a
    weapon or a place, not what did the harm; one far after it is about something else.
    Money, work and paper cues ("always") weigh on coercion and threats even with a person
    named ("les policiers nous obligent à payer"), unless a sexual or harm cue says more."""
    nouns = [a for a in hits["actor"] if not a.cue.pronoun]
    kind = act.cue.kind if act is not None else None
    applies = []
    for negative in hits["negative"]:
        if negative.cue.always:
            if kind in (None, "coercion", "threat") and not (hits["harm"] or hits["sexual"]):
                applies.append(negative)
            continue
        if nouns or (act is not None and act.cue.category == "phrase"):
            continue  # a person acts, or the words say it all ("violée", "menace de mort")
        if act is not None and negative.start <= act.end and negative.end >= act.start:
            continue  # the thing is part of the act ("lancé des pierres")
        if act is not None and negative.start > act.end and (  # after the act: its object?
                negative.start - act.end > NEAR
                or any(p.search(keyed[:negative.at]) for p in lex.not_agent_before)):
            continue
        applies.append(negative)
    return _strongest(applies)


def _kind(act: _Match | None, distress: _Match | None, hits: dict[str, list[_Match]]) -> str:
    lead = act or distress
    base = lead.cue.kind if lead else None
    sexual = bool(hits["sexual"])
    if hits["child"]:
        return "child_abuse"
    if base in _CONTEXT_KINDS:
        with_sex, without = _CONTEXT_KINDS[base]
        base = with_sex if sexual else without
    if base is None:
        base = "sexual_harassment" if sexual else "threat"
    if base in ("physical_assault", "threat") and any(a.cue.spouse for a in hits["actor"]):
        return "domestic_violence"
    return base


def _read(part: str) -> Detection:
    keyed = key(part)
    found = _score(keyed)
    from bot.core.disclosure.noise import repair

    repaired = repair(keyed)
    if repaired != keyed:
        second = _score(repaired)
        # The better reading wins, unless the repair revealed a harmless agent ("lemarteau")
        # or lost one ("masiŋ" is no typo).
        negatives = ({c for c in second.cues if ".negative." in c},
                     {c for c in found.cues if ".negative." in c})
        if negatives[0] - negatives[1]:
            return second
        if second.score > found.score and not negatives[1] - negatives[0]:
            return second
    return found


def detect(text: str | None) -> Detection:
    """Level and kind of a possible violence disclosure in `text` (the whole message and each
    of its sentences; the strongest wins)."""
    if not text or not text.strip():
        return Detection()
    parts = segments(text)
    results = [_read(part) for part in parts]
    whole = _read(text) if len(parts) != 1 else None
    best = max(results, key=lambda d: d.score, default=Detection())
    if whole is not None and whole.score > best.score:
        # Cues added up across sentences: worth an offer of help, not a routing.
        if whole.level == "sure":
            whole = Detection("unsure", whole.kind, whole.score, whole.cues)
        if LEVELS.index(whole.level) > LEVELS.index(best.level):
            best = whole
    return best
