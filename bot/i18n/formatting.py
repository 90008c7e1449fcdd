"""Numbers and dates in the user's language, from CLDR data via Babel.

CLDR has no Maninka (emk) or Soninke (snk), and some of what it has is empty: Bambara has
month names but no number symbols of its own (Babel would fall back to the root locale and
write 12,500.5, which nobody in Mali writes). For each kind of data we use the language's own
CLDR locale when it (or a parent other than root) really defines that data, and otherwise the
French of the user's country (fr_ML, fr_GN, fr_SN; fr when the country is unknown), which is
what people there read on receipts, radios and phones.
"""

from __future__ import annotations

import datetime
import pickle
from decimal import Decimal
from functools import cache

from babel import Locale, dates, localedata, numbers

from bot.i18n.languages import normalize_country, normalize_language

# The data each kind of formatting needs from the locale itself.
_NEEDS = {
    "numbers": ("number_symbols",),
    "dates": ("months", "date_formats"),
}


def format_number(number: int | float | Decimal, language: str | None,
                  country: str | None = None) -> str:
    """``12500`` -> "12 500" (fr, bm, emk...), "12.500" (wo)..."""
    return numbers.format_decimal(number, locale=formatting_locale(language, country, "numbers"))


def format_date(date: datetime.date, language: str | None, country: str | None = None,
                format: str = "long") -> str:
    """``date(2026, 3, 5)`` -> "5 mars 2026" (fr), "5 marisi 2026" (bm)...

    ``format`` is a CLDR width ("short", "medium", "long", "full") or a pattern.
    """
    return dates.format_date(date, format=format,
                             locale=formatting_locale(language, country, "dates"))


@cache
def formatting_locale(language: str | None, country: str | None, kind: str) -> Locale:
    """The Babel locale used for ``kind`` ("numbers" or "dates") in ``language``/``country``."""
    code, country = normalize_language(language), normalize_country(country)
    for candidate in _candidates(code, country):
        if _defines(candidate, _NEEDS[kind]):
            return Locale.parse(candidate)
    return Locale.parse(f"fr_{country}" if country else "fr")


def _candidates(code: str, country: str | None) -> list[str]:
    """CLDR locale identifiers for ``code``, most specific first (none for emk, snk)."""
    names = []
    if country:
        names += [f"{code}_{country}", f"{code}_Latn_{country}"]
    names.append(code)
    return [name for name in names if localedata.exists(name)]


def _defines(identifier: str, keys: tuple[str, ...]) -> bool:
    """True when ``identifier`` or one of its parents below root has data for all ``keys``."""
    chain = _chain(identifier)
    return all(any(_own_data(name).get(key) for name in chain) for key in keys)


@cache
def _own_data(identifier: str) -> dict:
    """The data defined in ``identifier``'s own CLDR file, without inheritance.

    Read from the file: ``localedata.load(name, merge_inherited=False)`` would cache the
    partial data under the same key and break every later ``Locale(name)``.
    """
    with open(localedata.resolve_locale_filename(identifier), "rb") as fileobj:
        return pickle.load(fileobj)


def _chain(identifier: str) -> list[str]:
    chain = [identifier]
    parents = _parent_exceptions()
    while True:
        current = chain[-1]
        parent = parents.get(current) or ("_".join(current.split("_")[:-1]) or None)
        if not parent or parent == "root" or not localedata.exists(parent):
            return chain
        chain.append(parent)


def _parent_exceptions() -> dict[str, str]:
    from babel.core import get_global

    return get_global("parent_exceptions")
