"""Vocabulary and limits the content files are checked against.

Names come from docs/DESIGN.md (intents, language and country codes) and from the
channels' documented limits (WhatsApp Cloud API interactive messages, Telegram Bot API).
"""

from __future__ import annotations

import re

from bot import facts

LANGUAGES: tuple[str, ...] = facts.LANGUAGE_CODES
DEFAULT_LANGUAGE = facts.DEFAULT_LANGUAGE
LOCAL_LANGUAGES: tuple[str, ...] = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)

COUNTRIES: tuple[str, ...] = facts.COUNTRY_CODES
ALL_COUNTRIES = "all"

TOPICS: tuple[str, ...] = (
    "formalisation", "licensing", "safe_practice", "protection", "navigation")

TEXT_STATUSES: tuple[str, ...] = ("draft", "reviewed")
REVIEW_STATUSES: tuple[str, ...] = ("draft", "to_verify", "reviewed")

# Reviewers of record (FACTS.md): every review block names one of them (content/partners.yml).
PARTNERS: tuple[str, ...] = tuple(facts.partner_names().values())

CONTENT_INTENTS: tuple[str, ...] = (
    "why_formalise", "form_cooperative", "form_gie", "get_authorisation", "couloirs",
    "seasonal_closure", "foreigners_rules", "sell_gold", "banned_practices",
    "gravity_concentration", "borax_smelting", "retort", "mercury_health", "cyanide",
    "pit_safety", "accident", "protective_equipment", "child_labour", "grievance_channels",
    "violence_help", "more_mercury",
    # issue 16: the questions miners ask every week
    "land_conflict", "extortion", "taxes_fees", "first_aid", "health_risks",
    "site_rehabilitation", "women_rights", "savings_credit", "equipment_rules",
)
NAVIGATION_INTENTS: tuple[str, ...] = (
    "greet", "menu", "more", "go_back", "thanks", "help", "affirm", "deny", "change_language",
    "change_country", "talk_to_person", "report_problem", "check_status", "delete_data",
    "out_of_scope", "inform", "choose",
)
KNOWN_INTENTS = frozenset(CONTENT_INTENTS + NAVIGATION_INTENTS)

# Channel limits, checked when content is written rather than when a send fails.
SHORT_MAX = 600                # one phone screen
BUTTON_TITLE_MAX = facts.WHATSAPP_BUTTON_TITLE_LIMIT
MAX_BUTTONS = facts.WHATSAPP_MAX_BUTTONS
LIST_ROW_TITLE_MAX = facts.WHATSAPP_LIST_ROW_TITLE_LIMIT
MAX_LIST_ROWS = facts.WHATSAPP_MAX_LIST_ROWS
INTERACTIVE_BODY_MAX = facts.WHATSAPP_INTERACTIVE_BODY_LIMIT
TELEGRAM_TEXT_MAX = facts.TELEGRAM_TEXT_LIMIT
CAVEAT_MAX = 300
DOCUMENT_TITLE_MAX = 80
RELATED_MIN, RELATED_MAX = 2, 3

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CHOICE_RE = re.compile(
    r"^(answer:[a-z][a-z0-9_]*|menu:[a-z][a-z0-9_]*|flow:[a-z0-9_]+(:[a-z0-9_]+)*)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Separator between an answer's short text and its caveat, in the message the user reads.
CAVEAT_PREFIX = "\n\n⚠️ "
