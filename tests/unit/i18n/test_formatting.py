"""Numbers and dates: CLDR where the language has data, the country's French otherwise."""

from __future__ import annotations

import datetime

import pytest
from babel import Locale, dates, numbers

from bot.i18n import format_date, format_number
from bot.i18n.formatting import formatting_locale

DAY = datetime.date(2026, 3, 5)


@pytest.mark.parametrize(("language", "country", "french"), [
    ("emk", "GN", "fr_GN"), ("emk", "ML", "fr_ML"), ("snk", "SN", "fr_SN"),
    ("snk", "ML", "fr_ML"), ("snk", None, "fr"), ("xx", "GN", "fr_GN"), (None, None, "fr"),
])
def test_languages_without_cldr_data_use_the_countrys_french(language, country, french):
    assert format_number(12500, language, country=country) == \
        numbers.format_decimal(12500, locale=french)
    assert format_date(DAY, language, country=country) == \
        dates.format_date(DAY, "long", locale=french) == "5 mars 2026"
    assert str(formatting_locale(language, country, "numbers")) == french


def test_bambara_dates_from_cldr_numbers_from_french_of_mali():
    # CLDR has Bambara month names but no Bambara number symbols (root would give 12,500).
    assert format_date(DAY, "bm", country="ML") == "5 marisi 2026"
    assert format_number(12500, "bm", country="ML") == numbers.format_decimal(12500, locale="fr_ML")
    assert "," not in format_number(12500, "bm", country="ML")
    assert format_number(12500.5, "bm", country="ML").endswith(",5")


def test_pular_uses_cldr_fula_for_its_country():
    assert str(formatting_locale("ff", "GN", "dates")) == "ff_Latn_GN"
    assert str(formatting_locale("ff", "SN", "numbers")) == "ff_Latn_SN"
    assert format_date(DAY, "ff", country="GN") == "5 mbooy 2026"


def test_wolof_keeps_its_own_cldr_conventions():
    assert str(formatting_locale("wo", "SN", "numbers")) == "wo_SN"
    assert format_number(12500, "wo", country="SN") == "12.500"


def test_country_code_case_and_unknown_country():
    assert format_number(12500, "emk", country="gn") == format_number(12500, "emk", country="GN")
    assert str(formatting_locale("emk", "FR", "dates")) == "fr"


def test_other_date_widths():
    assert format_date(DAY, "fr", country="SN", format="short") == "05/03/2026"


def test_babel_locale_data_is_left_intact():
    # Reading a locale's own data must not poison Babel's cache (localedata.load with
    # merge_inherited=False does): full locales must still resolve inherited data.
    formatting_locale("bm", "ML", "numbers")
    formatting_locale("ff", "GN", "dates")
    assert Locale.parse("bm_ML").date_formats["long"].pattern == "d MMMM y"
    assert Locale.parse("ff_Latn_GN").number_symbols["latn"]["decimal"] == ","
