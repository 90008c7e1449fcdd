"""The interface languages' plural rules, and how a language or country code is recognised.

The languages and countries themselves are in bot/facts.py.
"""

from __future__ import annotations

from bot.facts import COUNTRY_CODES, DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["COUNTRIES", "DEFAULT_LANGUAGE", "LANGUAGES", "PLURAL_FORMS", "normalize_country",
           "normalize_language"]

#: Countries where the assistant runs (ISO 3166-1 alpha-2), as bot.i18n has always named them.
COUNTRIES = COUNTRY_CODES

#: gettext Plural-Forms per catalogue. Written into every .po/.mo by our own code so that
#: Maninka and Soninke, which Babel/CLDR do not know, get a rule too.
#:  - fr, ff: "one" covers 0 and 1 (CLDR: i = 0,1), the classic gettext rule n > 1.
#:  - bm, emk, snk: Manding and Soninke nouns do not change with a number ("saga naani",
#:    four sheep); plurality is a suffix (-w, -u/-o) that is dropped after a numeral, so one
#:    form serves every n. CLDR agrees for Bambara (no plural categories).
#:  - wo: CLDR gives Wolof no plural categories either.
PLURAL_FORMS: dict[str, str] = {
    "fr": "nplurals=2; plural=(n > 1);",
    "bm": "nplurals=1; plural=0;",
    "emk": "nplurals=1; plural=0;",
    "ff": "nplurals=2; plural=(n > 1);",
    "snk": "nplurals=1; plural=0;",
    "wo": "nplurals=1; plural=0;",
}

# Other spellings of our languages that channels, Rasa entities or phones may send.
# Western Maninka (mlq, Kéniéba/Kédougou) and the macro code man read the Eastern Maninka
# catalogue: the varieties are mutually intelligible.
_ALIASES: dict[str, str] = {
    "fra": "fr", "fre": "fr", "french": "fr", "francais": "fr", "français": "fr",
    "bam": "bm", "bambara": "bm", "bamanankan": "bm",
    "man": "emk", "mlq": "emk", "maninka": "emk", "malinke": "emk", "malinké": "emk",
    "maninkakan": "emk",
    "ful": "ff", "fuf": "ff", "fuc": "ff", "pular": "ff", "pulaar": "ff", "peul": "ff",
    "fula": "ff",
    "soninke": "snk", "soninké": "snk", "soninkanxaane": "snk",
    "wol": "wo", "wolof": "wo",
}


def normalize_language(code: str | None) -> str:
    """Return one of LANGUAGES for ``code`` ("bm", "bm_ML", "BAM", "ff-Latn-SN"...).

    Anything unrecognised (including None and "") gives French, the source language.
    """
    if not code:
        return DEFAULT_LANGUAGE
    code = code.strip().lower().replace("-", "_")
    if code in LANGUAGES:
        return code
    if code in _ALIASES:
        return _ALIASES[code]
    base = code.split("_", 1)[0]
    if base in LANGUAGES:
        return base
    return _ALIASES.get(base, DEFAULT_LANGUAGE)


def normalize_country(country: str | None) -> str | None:
    """Return "ML", "GN" or "SN" for ``country`` in any case, else None."""
    if not country:
        return None
    country = country.strip().upper()
    return country if country in COUNTRIES else None
