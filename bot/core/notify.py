"""Telling partners about new requests, and miners about their partner's answers.

- New request -> the partner (per `content/partners.yml`: an e-mail through SMTP, or a message
  to a Telegram group). Protection requests go to the partner's protection staff only. The
  notification is sent by a worker (`PartnerNotifier.send_due`, run by the gateway's
  housekeeping task), retried with backoff, and recorded in the request's history; it never
  carries a phone number or the contents of a protection request.
- Partner's update -> the miner: `record_partner_update(session, request, status, message)`
  (what the partners' dashboard calls) records the change and queues a reply in the outbox,
  on the channel the miner used.

SMTP settings: `SMTP_HOST` (unset: e-mail disabled), `SMTP_PORT` (587), `SMTP_FROM`,
`SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_STARTTLS` (default 1: STARTTLS with a verified
certificate, never a fall-back to clear text; 0 only for a relay on a trusted network).
`DASHBOARD_URL` is linked in the notifications when set.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import facts
from bot.config import Settings, reveal
from bot.core.messages import Choice, Reply
from bot.i18n import N_, translator
from bot.store import requests as store
from bot.store.db import Database, rowcount
from bot.store.models import Contact, FollowUpRequest, OutboxMessage, Partner, utcnow

log = logging.getLogger(__name__)

MAX_NOTIFY_ATTEMPTS = 12
CLAIM = timedelta(minutes=5)  # a crashed sender's claim expires: the request is tried again
# Partners read French: the facts' French names, untranslated.
COUNTRY_NAMES, CATEGORY_NAMES = facts.COUNTRIES, facts.CATEGORIES
TIME_NAMES, CHANNEL_NAMES = facts.CALLBACK_TIMES, facts.CHANNELS


# What the miner reads of a status (the status flow uses the same words).
STATUS_LABELS = {"new": N_("reçue"), "assigned": N_("confiée à un partenaire"),
                 "in_progress": N_("en cours"), "resolved": N_("résolue"),
                 "closed": N_("clôturée")}


def status_label(gettext: Callable[[str], str], status: str) -> str:
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


class NotifyError(Exception):
    """A notification could not be delivered (retried later)."""


# ------------------------------------------------------------------ transports
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "assistant@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # STARTTLS with a verified certificate unless the operator turns it off explicitly
    # (SMTP_STARTTLS=0): a relay that does not offer it gets nothing (docs/SECURITY.md).
    starttls: bool = True
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings | None:
        """The relay of the settings' SMTP_* variables; None without SMTP_HOST (no e-mail)."""
        if not settings.smtp_host:
            return None
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                   username=settings.smtp_username, password=reveal(settings.smtp_password),
                   starttls=settings.smtp_starttls)


class EmailSender:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    async def send(self, to: str, subject: str, body: str) -> None:
        await asyncio.to_thread(self._send, to, subject, body)

    def _send(self, to: str, subject: str, body: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.sender, to, subject
        message.set_content(body)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    # Raises SMTPNotSupportedError when the relay does not offer it: no
                    # fallback to clear text. The default context verifies the certificate.
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"smtp: {type(exc).__name__}") from exc


class TelegramGroupSender:
    """Posts to a partner's Telegram group with the bot's token (TELEGRAM_API_BASE_URL)."""

    def __init__(self, http: Any, token: str, base_url: str = "https://api.telegram.org/bot"):
        self.http, self.token, self.base_url = http, token, base_url

    async def send(self, chat_id: str, text: str) -> None:
        try:
            response = await self.http.post(f"{self.base_url}{self.token}/sendMessage",
                                            json={"chat_id": chat_id, "text": text},
                                            timeout=20.0)
        except Exception as exc:  # httpx errors; never log the URL (it holds the token)
            raise NotifyError(f"telegram: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise NotifyError(f"telegram: HTTP {response.status_code}")


# ------------------------------------------------------------- partner messages
def partner_notification(request: FollowUpRequest, partner: Partner | None,
                         dashboard_url: str | None = None) -> tuple[str, str]:
    """Subject and body for the partner. Neutral subject; no phone number, ever."""
    subject = f"Demande {request.reference_code}"
    link = f"\n\nTableau de bord : {dashboard_url.rstrip('/')}/requests/{request.reference_code}" \
        if dashboard_url else ""
    due = request.due_at.strftime("%d/%m/%Y %H:%M UTC") if request.due_at else "-"
    if request.sensitive:
        body = (f"Demande confidentielle {request.reference_code} "
                f"({COUNTRY_NAMES.get(request.country or '', request.country or '-')}).\n"
                "Une personne demande à être rappelée par l'équipe de protection.\n"
                f"Moment choisi : {TIME_NAMES.get(request.callback_time or '', '-')}. "
                f"Langue : {request.language or '-'}.\n"
                "Le numéro est dans le tableau de bord (accès restreint). Ne posez pas de "
                "questions sur ce qui s'est passé ; ne transférez pas ce message.\n"
                f"À rappeler avant : {due}.{link}")
        return subject, body
    place = request.locality or ("position GPS envoyée" if request.latitude is not None else "-")
    if request.cluster:
        place += f" (zone {request.cluster})"
    channel = CHANNEL_NAMES.get(request.channel, request.channel)
    callback = {"channel": f"oui, répondre sur {channel}",
                "phone": "oui, par téléphone (numéro dans le tableau de bord)"}.get(
        request.callback_method or "", "non")
    attachments = len(request.attachments or [])
    lines = [
        f"Nouvelle demande {request.reference_code}",
        f"Catégorie : {CATEGORY_NAMES.get(request.category, request.category)}",
        f"Pays : {COUNTRY_NAMES.get(request.country or '', request.country or '-')} — "
        f"lieu : {place}",
        f"Reçue par : {CHANNEL_NAMES.get(request.channel, request.channel)}, "
        f"langue : {request.language or '-'}",
        f"Description : {request.summary or '-'}",
    ]
    if attachments:
        lines.append(f"Pièces jointes : {attachments} (messages vocaux ou photos, dans le "
                     "tableau de bord)")
    lines += [f"Contact : {callback}", f"Réponse attendue avant : {due}"]
    return subject, "\n".join(lines) + link


class PartnerNotifier:
    def __init__(self, db: Database, email: EmailSender | None = None,
                 telegram: TelegramGroupSender | None = None,
                 dashboard_url: str | None = None):
        self.db, self.email, self.telegram = db, email, telegram
        self.dashboard_url = dashboard_url

    @classmethod
    def from_settings(cls, settings: Settings, db: Database, http: Any) -> PartnerNotifier:
        smtp = SmtpSettings.from_settings(settings)
        token = reveal(settings.telegram_bot_token)
        return cls(db, EmailSender(smtp) if smtp else None,
                   TelegramGroupSender(http, token, settings.telegram_api_base_url)
                   if token else None,
                   settings.dashboard_url)

    def _target(self, request: FollowUpRequest,
                partner: Partner | None) -> tuple[str | None, str | None]:
        if partner is None:
            return None, None
        if request.sensitive:  # protection staff only; never the general inbox
            return partner.protection_notify_kind, partner.protection_notify_target
        return partner.notify_kind, partner.notify_target

    async def send_due(self, limit: int = 20) -> int:
        """Send the notifications that are due; returns how many were sent."""
        now = utcnow()
        with self.db.session() as session:
            rows = session.scalars(
                select(FollowUpRequest).where(
                    FollowUpRequest.notified_at.is_(None),
                    FollowUpRequest.notify_next_at.is_not(None),
                    FollowUpRequest.notify_next_at <= now)
                .order_by(FollowUpRequest.id).limit(limit)).all()
            jobs = []
            for request in rows:
                # Claim it, so that two app processes never send the same notification.
                claimed = rowcount(session.execute(
                    update(FollowUpRequest).where(
                        FollowUpRequest.id == request.id,
                        FollowUpRequest.notify_next_at == request.notify_next_at)
                    .values(notify_next_at=now + CLAIM)))
                if claimed != 1:
                    continue
                partner = session.get(Partner, request.partner_id) if request.partner_id else None
                kind, target = self._target(request, partner)
                subject, body = partner_notification(request, partner, self.dashboard_url)
                jobs.append((request.id, kind, target, subject, body))
        sent = 0
        for request_id, kind, target, subject, body in jobs:
            error = None
            try:
                if kind == "email" and target and self.email:
                    await self.email.send(target, subject, body)
                elif kind == "telegram" and target and self.telegram:
                    await self.telegram.send(target, body)
                else:
                    error = "not_configured"
            except NotifyError as exc:
                error = str(exc)
            self._record(request_id, kind, error)
            sent += error is None
        return sent

    def _record(self, request_id: int, kind: str | None, error: str | None) -> None:
        with self.db.session() as session:
            request = session.get_one(FollowUpRequest, request_id)
            if error is None:
                request.notified_at, request.notify_error = utcnow(), None
                store.add_event(session, request, "notified", message=kind, actor="system")
                log.info("notify: %s sent to its partner (%s)", request.reference_code, kind)
                return
            request.notify_attempts += 1
            request.notify_error = error[:500]
            if error == "not_configured" or request.notify_attempts >= MAX_NOTIFY_ATTEMPTS:
                # Stays visible on the dashboard; nothing more to try automatically.
                request.notify_next_at = None
                store.add_event(session, request, "notify_failed", message=error, actor="system")
                log.warning("notify: %s not notified (%s)", request.reference_code, error)
            else:
                delay = min(3600, 30 * 2 ** (request.notify_attempts - 1))
                request.notify_next_at = utcnow() + timedelta(seconds=delay)
                log.warning("notify: %s failed (%s); retry in %d s", request.reference_code,
                            error, delay)


# -------------------------------------------------------------- partner updates
def record_partner_update(session: Session, request: FollowUpRequest | str,
                          status: str | None = None, message: str | None = None, *,
                          actor: str | None = None) -> FollowUpRequest:
    """A partner changed a request's status and/or wrote to the miner: record it, and tell
    the miner through the channel they used (an outbox row the gateway delivers).

    Raises `bot.store.requests.InvalidTransition` for a status change the workflow forbids.
    """
    if isinstance(request, str):
        code = store.normalize_reference_code(request)
        found = session.scalar(select(FollowUpRequest).where(
            FollowUpRequest.reference_code == code)) if code else None
        if found is None:
            raise LookupError(f"no request {request!r}")
        request = found
    message = (message or "").strip() or None
    if status and status != request.status:
        store.change_status(session, request, status, actor=actor, message=message)
    elif message:
        store.add_event(session, request, "message", message=message, actor=actor)
    if message:
        request.partner_message = message
        request.updated_at = utcnow()
    if (status or message) and request.contact_id:
        contact = session.get(Contact, request.contact_id)
        if contact is not None and contact.erase_requested_at is None:
            session.add(OutboxMessage(contact_id=request.contact_id, inbox_id=None,
                                      channel=request.channel,
                                      payload=miner_update(request).to_json()))
    session.flush()
    return request


def miner_update(request: FollowUpRequest) -> Reply:
    """What the miner reads. A protection request gets a neutral line only: the phone's
    notification preview must not reveal anything."""
    t = translator(request.language)
    if request.sensitive:
        text = t.gettext("Vous avez un nouveau message. Écrivez « suivi » pour le lire.")
        return Reply(text, [Choice("flow:status:start", t.gettext("Voir"))],
                     lang=request.language)
    text = t.gettext("Votre demande {code} : {status}.").format(
        code=request.reference_code, status=status_label(t.gettext, request.status))
    if request.partner_message:
        text += "\n" + t.gettext("Message du partenaire : « {message} »").format(
            message=request.partner_message)
    return Reply(text, [Choice("menu:main", t.gettext("Menu"))], lang=request.language)
