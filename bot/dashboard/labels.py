"""French names of the codes the dashboard shows (marked for gettext with N_; the shared
ones come from bot/facts.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from bot import facts
from bot.i18n import N_

STATUS = {"new": N_("Nouvelle"), "assigned": N_("Confiée"), "in_progress": N_("En cours"),
          "resolved": N_("Résolue"), "closed": N_("Clôturée")}
CATEGORY = facts.CATEGORIES
COUNTRIES = facts.COUNTRIES
CHANNEL = facts.CHANNELS
LANGUAGE = facts.LANGUAGE_NAMES_FR
ROLE = {"viewer": N_("Lecture seule"), "caseworker": N_("Chargé·e de suivi"),
        "protection": N_("Équipe de protection"), "admin": N_("Administrateur·rice")}
# The outbox row's status, as the partner reads it.
DELIVERY = {"pending": N_("en file d'attente"), "sent": N_("envoyé"),
            "delivered": N_("remis"), "read": N_("lu"), "failed": N_("échec de l'envoi"),
            "held": N_("retenu : la personne doit d'abord écrire (fenêtre WhatsApp de 24 h)"),
            "none": N_("non envoyé : plus de contact avec cette personne")}
EVENT = {"created": N_("Reçue"), "status": N_("Statut changé"), "reopened": N_("Rouverte"),
         "message": N_("Message au mineur"), "notified": N_("Partenaire prévenu"),
         "notify_failed": N_("Notification non envoyée"),
         "consent_withdrawn": N_("Consentement retiré"), "anonymised": N_("Anonymisée"),
         "assigned_to": N_("Attribuée"), "callback": N_("Rappel")}
CALLBACK_TIME = facts.CALLBACK_TIMES


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%d/%m/%Y %H:%M")
