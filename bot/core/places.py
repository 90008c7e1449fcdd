"""The gazetteer of the four clusters, for code that must turn a place name into a place.

The NLU tags a place name (entity ``place``) but cannot tell homonyms apart: "Kéniéba" is a
cercle in Mali and an arrondissement (Kéniaba) of Bakel in Senegal, "Fadougou" is a Malian
mine village and a Senegalese dioura, "Mali" is also a Guinean préfecture. This module does the
disambiguation, by the contact's country when it is known and otherwise by prominence.

    >>> resolve_place("kenieba").country
    'ML'
    >>> resolve_place("Kéniéba", country="SN").name
    'Kéniaba'

Names are matched as people type them: without accents, in a phonetic spelling ("sigiri",
"kedugu", "kenyeba" — ``phonetic_key``), with a typo (fuzzy matching with rapidfuzz on that
key, names of five letters or more only), and inside a longer name ("site de Kobada vers
Kangaba": every run of words is tried, the site first). ``places_in_text`` finds the places a
whole message names.

    >>> resolve_place("sigiri").name
    'Siguiri'

The data is ``nlu/data/lookups/places.csv``, a copy of the shared gazetteer
(``bot.devtools.places`` regenerates it and the NLU lookup table from the shared file).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.core.normalize import fold_letters

__all__ = ["Place", "PLACES_CSV", "load_places", "find_places", "resolve_place", "place_key",
           "phonetic_key", "places_in_text", "spellings"]

PLACES_CSV = Path(__file__).resolve().parents[2] / "nlu" / "data" / "lookups" / "places.csv"

# When a name is ambiguous and the country is unknown, the more prominent kind wins.
_KIND_RANK = {"chief_town": 0, "arrondissement": 1, "sous_prefecture": 1, "commune": 2,
              "mining_site": 3, "village": 4}
# When a message names a site and its village, the most specific place is the one meant.
_SPECIFIC = {"mining_site": 0, "village": 1, "commune": 2, "arrondissement": 3,
             "sous_prefecture": 3, "chief_town": 4}
_PARENS = re.compile(r"\s*\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"[a-z0-9]+")
# Fuzzy matching (one typo per five letters or so) only for keys at least this long: short
# names ("Doko", "Mako", "Baye") would match ordinary words.
FUZZY_MIN_LEN = 5
FUZZY_CUTOFF = 80.0  # one letter wrong in six; five-letter names need one added or missed
FUZZY_CUTOFF_SHORT = 88.0
# Words around a place name in a message ("le site de Kobada vers Kangaba"): never a place.
_FILLER = {
    "a", "au", "aux", "de", "des", "du", "d", "l", "la", "le", "les", "en", "et", "ou", "vers",
    "pres", "cote", "dans", "sur", "site", "mine", "village", "ville", "commune", "cercle",
    "prefecture", "sous", "arrondissement", "region", "zone", "placer", "damada", "dama",
    "chez", "nous", "moi", "je", "suis", "sommes", "est", "c", "ici", "la-bas", "bas", "from",
    "of", "the", "quartier", "secteur", "centre", "carre", "puits", "trou", "trous",
}
# Words that are first something else in a message: French "belle" (~ Bélé), the country
# "mali", names and words of several languages ("touba", "baye", "didi").
_NOT_PLACES = {"belle", "bele", "dana", "mako", "karan", "touba", "baye", "didi", "baya", "mali"}
# French spellings of sounds, mapped to one form (order matters): "Siguiri"/"sigiri",
# "Kédougou"/"kedugu", "Kéniéba"/"kenyeba", "Kharakhéna"/"karakena", "Djoma"/"joma".
_PHONETIC = [
    (re.compile(r"gu(?=[ei])"), "g"),
    (re.compile(r"qu"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"ck|c"), "k"),
    (re.compile(r"dj"), "j"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"gn"), "ni"),
    (re.compile(r"h"), ""),
    (re.compile(r"ou|w"), "u"),
    (re.compile(r"y"), "i"),
    (re.compile(r"z"), "s"),
    (re.compile(r"ai|ei"), "e"),
    (re.compile(r"(?<=[^aeiou])i(?=[aeou])"), ""),  # kenieba/kenyeba/keneba: an on-glide
    (re.compile(r"(.)\1+"), r"\1"),
]


@dataclass(frozen=True)
class Place:
    """One row of the gazetteer."""

    name: str
    alt_spellings: tuple[str, ...]
    kind: str
    admin_unit: str
    country: str  # ML, GN or SN
    cluster: int
    lat: float | None
    lon: float | None
    source: str

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


def place_key(name: str) -> str:
    """The comparison key of a spelling: folded, no accents, no punctuation or spaces."""
    return _NON_WORD.sub("", fold_letters(name))


def phonetic_key(name: str) -> str:
    """A coarser key: French spellings of one sound folded together, doubled letters single.

    ``phonetic_key("Siguiri") == phonetic_key("sigiri")``, ``phonetic_key("Kédougou") ==
    phonetic_key("kedugu")``, ``phonetic_key("Kéniéba") == phonetic_key("kenyeba")``.
    """
    key = place_key(name)
    for pattern, repl in _PHONETIC:
        key = pattern.sub(repl, key)
    return key


def spellings(place: Place) -> list[str]:
    """Every spelling of a place, without the disambiguating "(Mali)"/"(Sénégal)" suffix."""
    names = [place.name, *place.alt_spellings]
    out: list[str] = []
    for name in names:
        bare = _PARENS.sub("", name).strip()
        for candidate in (name, bare):
            if candidate and candidate not in out and "(" not in candidate:
                out.append(candidate)
    return out


def _float(value: str) -> float | None:
    try:
        return float(value) if value.strip() else None
    except ValueError:
        return None


@lru_cache(maxsize=4)
def load_places(path: Path | str = PLACES_CSV) -> tuple[Place, ...]:
    """Read the gazetteer: one ``Place`` per row, in file order."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        Place(
            name=row["name"].strip(),
            alt_spellings=tuple(s.strip() for s in (row.get("alt_spellings") or "").split(";")
                                if s.strip()),
            kind=row["kind"].strip(),
            admin_unit=row.get("admin_unit", "").strip(),
            country=row["country"].strip(),
            cluster=int(row["cluster"]),
            lat=_float(row.get("lat", "")),
            lon=_float(row.get("lon", "")),
            source=row.get("source", "").strip(),
        )
        for row in rows
    )


@lru_cache(maxsize=4)
def _index(path: Path | str = PLACES_CSV) -> dict[str, tuple[Place, ...]]:
    index: dict[str, list[Place]] = {}
    for place in load_places(path):
        for spelling in spellings(place):
            bucket = index.setdefault(place_key(spelling), [])
            if place not in bucket:
                bucket.append(place)
    return {key: tuple(value) for key, value in index.items()}


@lru_cache(maxsize=4)
def _phonetic_index(path: Path | str = PLACES_CSV) -> dict[str, tuple[Place, ...]]:
    index: dict[str, list[Place]] = {}
    for key, places in _index(path).items():
        bucket = index.setdefault(phonetic_key(key), [])
        bucket.extend(p for p in places if p not in bucket)
    return {key: tuple(value) for key, value in index.items()}


def _match(name: str, path: Path | str, fuzzy: bool = True) -> tuple[Place, ...]:
    """Places spelled ``name``: exact key, then phonetic key, then (long names) fuzzy."""
    key = place_key(name)
    if not key:
        return ()
    found = _index(path).get(key)
    if found:
        return found
    phonetic = phonetic_key(key)
    found = _phonetic_index(path).get(phonetic)
    if found or not fuzzy or len(phonetic) < FUZZY_MIN_LEN:
        return found or ()
    from rapidfuzz import fuzz, process

    keys = [k for k in _phonetic_index(path)
            if len(k) >= FUZZY_MIN_LEN and abs(len(k) - len(phonetic)) <= 2]
    cutoff = FUZZY_CUTOFF if len(phonetic) > FUZZY_MIN_LEN else FUZZY_CUTOFF_SHORT
    best = process.extractOne(phonetic, keys, scorer=fuzz.ratio, score_cutoff=cutoff)
    return _phonetic_index(path)[best[0]] if best else ()


def _windows(words: list[str]) -> list[tuple[int, int]]:
    """Every run of consecutive words, longest first, then left to right."""
    n = len(words)
    return [(i, i + size) for size in range(n, 0, -1) for i in range(n - size + 1)]


def _scan(words: list[str], path: Path | str,
          fuzzy: bool) -> list[tuple[int, int, Place]]:
    """Places named by runs of ``words`` (no overlapping runs; fillers alone never match)."""
    used: set[int] = set()
    hits: list[tuple[int, int, Place]] = []
    for start, end in _windows(words):
        span = words[start:end]
        if used.intersection(range(start, end)) or span[0] in _FILLER or span[-1] in _FILLER:
            continue
        text = " ".join(span)
        if end - start == 1 and text in _NOT_PLACES:
            continue
        found = _match(text, path, fuzzy=fuzzy)
        if found:
            used.update(range(start, end))
            hits.extend((start, end, place) for place in found)
    return hits


def _order(found: list[Place], country: str | None) -> list[Place]:
    found.sort(key=lambda p: (country is not None and p.country != country,
                              _KIND_RANK.get(p.kind, 9)))
    return found


def find_places(name: str, country: str | None = None,
                path: Path | str = PLACES_CSV) -> list[Place]:
    """Every place spelled ``name`` (any spelling, accents optional), best first.

    The whole name is tried first (exactly, then phonetically, then with a typo). A name of
    several words that is no place as a whole ("site de Kobada vers Kangaba", "Fekola
    Kéniéba") gives the places its words name: the most specific first (a site before its
    village), in the country the other names agree on.

    With ``country``, places of that country come first; then by prominence (chief town,
    arrondissement or sous-préfecture, commune, mining site, village).
    """
    if not name:
        return []
    country = country.upper() if country else None
    whole = list(_match(name, path))
    if whole:
        return _order(whole, country)
    words = _WORDS.findall(fold_letters(name))
    if len(words) < 2:
        return []
    hits = _scan(words, path, fuzzy=True)
    if not hits:
        return []
    # Countries named by every run (a site and its village agree), else any.
    runs: dict[int, set[str]] = {}
    for start, _, place in hits:
        runs.setdefault(start, set()).add(place.country)
    shared = set.intersection(*runs.values())
    named = {phonetic_key(s) for _, _, p in hits for s in spellings(p)}
    found: list[Place] = []
    for _, _, place in hits:
        if place not in found:
            found.append(place)

    def inside_another(place: Place) -> bool:  # "Fekola Kéniéba": the site in Kéniéba
        admin = {phonetic_key(w) for w in _WORDS.findall(fold_letters(place.admin_unit))}
        return bool(admin & (named - {phonetic_key(s) for s in spellings(place)}))

    found.sort(key=lambda p: (country is not None and p.country != country,
                              not inside_another(p),
                              bool(shared) and p.country not in shared,
                              _SPECIFIC.get(p.kind, 9)))
    return found


def places_in_text(text: str, country: str | None = None,
                   path: Path | str = PLACES_CSV) -> list[Place]:
    """The places a whole message names, in the order they appear (one per name: the one
    ``resolve_place`` would pick). Stricter than ``find_places``: a message is mostly other
    words, so fuzzy matching applies only to words of seven letters or more."""
    words = _WORDS.findall(fold_letters(text or ""))
    country = country.upper() if country else None
    by_start: dict[int, list[Place]] = {}
    covered: set[int] = set()
    for start, end, place in _scan(words, path, fuzzy=False):
        by_start.setdefault(start, []).append(place)
        covered.update(range(start, end))
    for i, word in enumerate(words):
        if i in covered or len(word) < 7 or word in _FILLER:
            continue
        fuzzy = _match(word, path, fuzzy=True)
        if fuzzy:
            by_start[i] = list(fuzzy)
    out: list[Place] = []
    for start in sorted(by_start):
        best = _order(by_start[start], country)[0]
        if best not in out:
            out.append(best)
    return out


def resolve_place(name: str, country: str | None = None,
                  path: Path | str = PLACES_CSV) -> Place | None:
    """The place a user most likely means by ``name``, or None if the name is unknown.

    With ``country`` only a place of that country is returned (None if there is none: a
    Guinean contact who writes "Kéniéba" gets the Malian cercle only through
    ``find_places``). Without it, the most prominent homonym wins.
    """
    candidates = find_places(name, country, path)
    if country:
        candidates = [p for p in candidates if p.country == country.upper()]
    return candidates[0] if candidates else None


NEAR_KM = 60.0  # beyond this, a shared location is "not near any place we know"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    import math

    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = (math.sin(dlat / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2)
    return 6371 * 2 * math.asin(math.sqrt(a))


def nearest_place(lat: float, lon: float, max_km: float = NEAR_KM) -> Place | None:
    """The known place (with coordinates) nearest to a shared location, within `max_km`."""
    scored = [(distance_km(lat, lon, p.lat, p.lon), p) for p in load_places()
              if p.lat is not None and p.lon is not None]
    best = min(scored, key=lambda scored_place: scored_place[0], default=None)
    if best is None or best[0] > max_km:
        return None
    return best[1]
