"""The gazetteer of the four clusters, for code that must turn a place name into a place.

The NLU tags a place name (entity ``place``) but cannot tell homonyms apart: "Kéniéba" is a
cercle in Mali and an arrondissement (Kéniaba) of Bakel in Senegal, "Fadougou" is a Malian
mine village and a Senegalese dioura, "Mali" is also a Guinean préfecture. This module does the
disambiguation, by the contact's country when it is known and otherwise by prominence.

    >>> resolve_place("kenieba").country
    'ML'
    >>> resolve_place("Kéniéba", country="SN").name
    'Kéniaba'

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
           "spellings"]

PLACES_CSV = Path(__file__).resolve().parents[2] / "nlu" / "data" / "lookups" / "places.csv"

# When a name is ambiguous and the country is unknown, the more prominent kind wins.
_KIND_RANK = {"chief_town": 0, "arrondissement": 1, "sous_prefecture": 1, "commune": 2,
              "mining_site": 3, "village": 4}
_PARENS = re.compile(r"\s*\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")


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


def find_places(name: str, country: str | None = None,
                path: Path | str = PLACES_CSV) -> list[Place]:
    """Every place spelled ``name`` (any spelling, accents optional), best first.

    With ``country``, places of that country come first; then by prominence (chief town,
    arrondissement or sous-préfecture, commune, mining site, village).
    """
    if not name:
        return []
    found = list(_index(path).get(place_key(name), ()))
    country = country.upper() if country else None
    found.sort(key=lambda p: (country is not None and p.country != country,
                              _KIND_RANK.get(p.kind, 9)))
    return found


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
    located = [p for p in load_places() if p.has_coordinates]
    best = min(located, key=lambda p: distance_km(lat, lon, p.lat, p.lon), default=None)
    if best is None or distance_km(lat, lon, best.lat, best.lon) > max_km:
        return None
    return best
