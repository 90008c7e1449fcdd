"""The facts every part of the assistant shares, written once and imported everywhere.

Languages, countries, request categories, call-back time slots, the channels and their
limits, the partners. French labels are marked with ``N_`` (found by ``make extract``) and
translated where they are shown: ``translator(lang).gettext(COUNTRIES["ML"])``.

This module imports nothing from the rest of the package, so any layer may import it.
A test (tests/unit/test_facts.py) fails when one of these tables is written again elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate it later).

    Use it for strings defined at import time, before a language is known::

        MAIN_MENU = N_("Menu principal")
        ...
        translator(lang).gettext(MAIN_MENU)
    """
    return message


# ------------------------------------------------------------------ languages
#: Interface languages in menu order: code -> name in the language itself.
LANGUAGES: dict[str, str] = {
    "fr": "Français",
    "bm": "Bamanankan",
    "emk": "Maninkakan",
    "ff": "Pulaar",
    "snk": "Soninkanxaane",
    "wo": "Wolof",
}
LANGUAGE_CODES: tuple[str, ...] = tuple(LANGUAGES)
#: French is the source language (msgids are French) and the fallback for everything.
DEFAULT_LANGUAGE = "fr"
#: The languages' names in French, as partners read them (the dashboard, French only).
LANGUAGE_NAMES_FR: dict[str, str] = {
    "fr": "français", "bm": "bambara", "emk": "maninka", "ff": "pular", "snk": "soninké",
    "wo": "wolof",
}

# ------------------------------------------------------------------ countries
#: Countries where the assistant runs (ISO 3166-1 alpha-2) -> French name, in menu order.
COUNTRIES: dict[str, str] = {"ML": N_("Mali"), "GN": N_("Guinée"), "SN": N_("Sénégal")}
COUNTRY_CODES: tuple[str, ...] = tuple(COUNTRIES)

# ------------------------------------------------------------------ requests
#: A follow-up request's category -> its name as partners read it (dashboard, notifications).
CATEGORIES: dict[str, str] = {
    "land_conflict": N_("Conflit de terrain"),
    "extortion": N_("Racket, extorsion"),
    "accident": N_("Accident"),
    "pollution": N_("Pollution"),
    "child_labour": N_("Enfants au travail"),
    "protection": N_("Protection (confidentiel)"),
    "other": N_("Autre problème"),
    "talk_to_person": N_("Parler à une personne"),
}
CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORIES)
#: What the miner reads of a category: violence is never called "protection" to them, and
#: "violence" is the report flow's door to the protection flow (not a stored category).
MINER_CATEGORIES: dict[str, str] = {
    **CATEGORIES,
    "violence": N_("Violence, abus"),
    "protection": N_("Violence, abus"),
}

#: When a partner may call back -> French words, in the order offered.
CALLBACK_TIMES: dict[str, str] = {
    "morning": N_("le matin"),
    "afternoon": N_("l'après-midi"),
    "evening": N_("le soir"),
    "any": N_("à tout moment"),
}
CALLBACK_TIME_CODES: tuple[str, ...] = tuple(CALLBACK_TIMES)

# ------------------------------------------------------------------ channels
#: The channels -> their name as partners read it.
CHANNELS: dict[str, str] = {"web": N_("Chat web"), "telegram": N_("Telegram"),
                            "whatsapp": N_("WhatsApp")}

# The channels' documented limits (Telegram Bot API; WhatsApp Cloud API interactive
# messages): renderers split and fall back by them, the content checks refuse what breaks them.
TELEGRAM_TEXT_LIMIT = 4096  # UTF-16 code units, as Telegram counts them
TELEGRAM_CALLBACK_DATA_BYTES = 64
WHATSAPP_TEXT_LIMIT = 4096
WHATSAPP_INTERACTIVE_BODY_LIMIT = 1024
WHATSAPP_MAX_BUTTONS = 3  # reply buttons per message
WHATSAPP_BUTTON_TITLE_LIMIT = 20
WHATSAPP_BUTTON_ID_LIMIT = 256
WHATSAPP_MAX_LIST_ROWS = 10  # list rows per message
WHATSAPP_LIST_ROW_TITLE_LIMIT = 24
WHATSAPP_LIST_ROW_ID_LIMIT = 200
WHATSAPP_LIST_BUTTON_LIMIT = 20

# ------------------------------------------------------------------ partners
#: The partners, the routing of requests and the target times: edited by the partners
#: without code (docs/REQUESTS.md); read by bot/store/requests.py.
PARTNERS_FILE = Path(__file__).resolve().parent.parent / "content" / "partners.yml"


@lru_cache(maxsize=4)
def partner_names(path: Path = PARTNERS_FILE) -> dict[str, str]:
    """Partner id -> name (``{"pact": "Pact", ...}``), in the order of content/partners.yml."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {partner["id"]: partner["name"] for partner in data.get("partners") or ()}
