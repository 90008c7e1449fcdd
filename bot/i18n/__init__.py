"""Interface text in French, Bambara, Maninka, Pular, Soninke and Wolof.

Dialogue code::

    from bot.i18n import N_, LANGUAGES, translator, format_number, format_date

    t = translator("bm")                  # unknown or None -> French
    t.gettext("Menu principal")
    t.ngettext("{n} message", "{n} messages", n).format(n=n)
    format_number(12500, "bm", country="ML")            # "12 500"
    format_date(date(2026, 3, 5), "emk", country="GN")  # "5 mars 2026"

Strings are French msgids found by ``make extract`` in ``gettext(``, ``ngettext(``, ``_(``
and ``N_(`` calls under ``bot/``. Catalogues live in ``locales/``; the translator workflow
(spreadsheet export/import, draft/reviewed status) is in docs/TRANSLATING.md.
"""

from bot.i18n.formatting import format_date, format_number
from bot.i18n.languages import COUNTRIES, DEFAULT_LANGUAGE, LANGUAGES, normalize_language
from bot.i18n.translate import N_, Translator, reload_translations, translator

__all__ = [
    "COUNTRIES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Translator",
    "format_date",
    "format_number",
    "normalize_language",
    "reload_translations",
    "translator",
]
