"""Follow-up requests: reference codes, routing to a partner, status history and consent.

A miner asks for something a partner organisation has to follow up (a land conflict, an
accident, a call-back after violence). The flows in `bot/actions/flows/` create requests here;
the partners' dashboard changes their status through `bot.core.notify.record_partner_update`.
docs/REQUESTS.md describes the data and the rules:

- contact ids only: the one phone number a request may hold is a call-back number the miner
  consented to, encrypted (`callback_contact_encrypted`);
- a protection request keeps its category, country, the consented contact and nothing else:
  no summary, no place, no attachment;
- partners, routing rules and target times come from `content/partners.yml`.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import facts
from bot.facts import CALLBACK_TIME_CODES, CATEGORY_CODES
from bot.store.db import Database, get_database
from bot.store.models import (
    Consent,
    FollowUpRequest,
    Partner,
    RequestEvent,
    RoutingRule,
    utcnow,
)

log = logging.getLogger(__name__)

CATEGORIES = CATEGORY_CODES
STATUSES = ("new", "assigned", "in_progress", "resolved", "closed")
# Where a request may go from each status. Resolved and closed requests can be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "in_progress", "resolved", "closed"}),
    "assigned": frozenset({"in_progress", "resolved", "closed"}),
    "in_progress": frozenset({"assigned", "resolved", "closed"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset({"in_progress"}),
}
CONSENT_SCOPES = ("callback", "share_conversation")
CALLBACK_TIMES = CALLBACK_TIME_CODES

# No 0/O, 1/I/L: a code is read aloud on the phone and copied by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
_CODE = re.compile(rf"^([A-Z]{{2}})-?([{CODE_ALPHABET}]{{{CODE_LENGTH}}})$")
SUMMARY_LIMIT = 500
LOCALITY_LIMIT = 120

PARTNERS_FILE = facts.PARTNERS_FILE


class InvalidTransition(ValueError):
    """A status change the workflow does not allow (e.g. new -> new)."""


# ------------------------------------------------------------------ the database
_database: Database | None = None


def database() -> Database:
    """The database the flows write requests to (the app's, unless a test swapped it)."""
    if _database is not None:
        return _database
    from bot.config import get_settings

    return get_database(get_settings().database_url)


@contextmanager
def use_database(db: Database) -> Iterator[Database]:
    """Point the flows at another database (tests, tools)."""
    global _database
    previous, _database = _database, db
    try:
        yield db
    finally:
        _database = previous


# -------------------------------------------------------------- reference codes
def new_reference_code(country: str | None) -> str:
    """`ML-7KQ4XR`: the country, then 6 characters that cannot be misread."""
    prefix = country if country and re.fullmatch(r"[A-Z]{2}", country) else "XX"
    return prefix + "-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_reference_code(text: str | None) -> str | None:
    """The code as stored, from what a user typed ("ml 7kq4xr", "ML7KQ4XR"); None if not one."""
    if not text:
        return None
    compact = re.sub(r"[\s._–—-]+", "", text.strip().upper())
    match = _CODE.match(compact)
    return f"{match.group(1)}-{match.group(2)}" if match else None


# --------------------------------------------------------- partners and routing
@dataclass(frozen=True)
class ReferenceData:
    partners: list[dict[str, Any]]
    routing: list[dict[str, Any]]
    targets: dict[str, int]
    # Local monitoring and alert committees (dashboard organisations scoped to clusters).
    committees: tuple[dict[str, Any], ...] = ()


def load_reference_data(path: Path = PARTNERS_FILE) -> ReferenceData:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    partners = list(data.get("partners") or [])
    ids = {p["id"] for p in partners}
    routing = list(data.get("routing") or [])
    for rule in routing:
        if rule.get("partner") not in ids:
            raise ValueError(f"{path.name}: routing rule {rule} names an unknown partner")
        if rule.get("category") and rule["category"] not in CATEGORIES:
            raise ValueError(f"{path.name}: unknown category {rule['category']!r}")
    for partner in partners:
        if not isinstance(partner.get("oversight", False), bool):
            raise ValueError(f"{path.name}: {partner['id']}: oversight must be true or false")
    committees = tuple(data.get("committees") or ())
    for committee in committees:
        clusters = committee.get("clusters")
        if not committee.get("id") or committee["id"] in ids:
            raise ValueError(f"{path.name}: committee {committee} needs an id of its own")
        if not clusters or not all(isinstance(c, int) for c in clusters):
            raise ValueError(f"{path.name}: committee {committee['id']} needs cluster numbers")
    targets = {str(k): int(v) for k, v in (data.get("targets") or {}).items()}
    return ReferenceData(partners, routing, targets, committees)


def sync_reference_data(session: Session, data: ReferenceData | None = None) -> None:
    """Copy partners and routing rules from the file into the database (idempotent)."""
    data = data or load_reference_data()
    for raw in data.partners:
        partner = session.get(Partner, raw["id"]) or Partner(id=raw["id"])
        notify = raw.get("notify") or {}
        protection = raw.get("protection_notify") or {}
        partner.name = raw.get("name") or raw["id"]
        partner.notify_kind, partner.notify_target = notify.get("kind"), _str(notify.get("target"))
        partner.protection_notify_kind = protection.get("kind")
        partner.protection_notify_target = _str(protection.get("target"))
        partner.active = bool(raw.get("active", True))
        session.add(partner)
    session.flush()
    session.execute(delete(RoutingRule))
    for rule in data.routing:
        session.add(RoutingRule(country=rule.get("country"), category=rule.get("category"),
                                partner_id=rule["partner"]))
    session.flush()


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


_synced: set[tuple[str, float]] = set()


def ensure_reference_data(session: Session, path: Path = PARTNERS_FILE) -> None:
    """Sync the partners file into this database once per process and per change of the file."""
    bind = session.get_bind()
    url = bind.engine.url if isinstance(bind, Connection) else bind.url
    key = (str(url), path.stat().st_mtime)
    if key in _synced:
        return
    data = load_reference_data(path)
    try:
        with session.begin_nested():
            sync_reference_data(session, data)
    except IntegrityError:  # another process synced the same file at the same moment
        log.info("requests: partners synced by another process")
    _synced.add(key)


def target_hours(category: str, path: Path = PARTNERS_FILE) -> int | None:
    return load_reference_data(path).targets.get(category)


def route(session: Session, country: str | None, category: str) -> Partner | None:
    """The partner for a request: the most specific matching rule wins."""
    rules = session.scalars(select(RoutingRule)).all()

    def rank(rule: RoutingRule) -> int | None:
        if rule.country not in (None, country) or rule.category not in (None, category):
            return None
        return (2 if rule.country else 0) + (1 if rule.category else 0)

    ranked = [(r, rule) for rule in rules if (r := rank(rule)) is not None]
    for _, rule in sorted(ranked, key=lambda item: (-item[0], item[1].id)):
        partner = session.get(Partner, rule.partner_id)
        if partner is not None and partner.active:
            return partner
    return None


def callback_available(session: Session, country: str | None) -> bool:
    """True when the partner for protection requests in `country` has protection staff: named
    in `protection_notify`, or an active `protection` user of the dashboard (who sees the
    request there). Never promise a call-back that nobody would receive."""
    ensure_reference_data(session)
    partner = route(session, country, "protection")
    if partner is None:
        return False
    if partner.protection_notify_kind and partner.protection_notify_target:
        return True
    from bot.store.dashboard_models import User

    return session.scalar(select(User.id).where(
        User.organisation_id == partner.id, User.role == "protection",
        User.active.is_(True), User.demo.is_(False)).limit(1)) is not None


# --------------------------------------------------------------------- requests
def create_request(session: Session, *, contact_id: str | None, category: str, channel: str,
                   country: str | None = None, language: str | None = None,
                   cluster: int | None = None, locality: str | None = None,
                   latitude: float | None = None, longitude: float | None = None,
                   summary: str | None = None, attachments: list[int] | None = None,
                   callback_method: str | None = None,
                   callback_contact_encrypted: str | None = None,
                   callback_time: str | None = None,
                   share_conversation: bool = False) -> FollowUpRequest:
    """Store a request, route it, set its due date, record its history and the consents."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    sensitive = category == "protection"
    if sensitive:
        # Survivor-centred rule: a protection request records the consented contact only.
        summary = locality = None
        latitude = longitude = cluster = None
        attachments = None
    if callback_method not in (None, "channel", "phone"):
        raise ValueError(f"unknown call-back method {callback_method!r}")
    if callback_method != "phone":
        callback_contact_encrypted = None
    if callback_time is not None and callback_time not in CALLBACK_TIMES:
        raise ValueError(f"unknown call-back time {callback_time!r}")
    ensure_reference_data(session)
    partner = route(session, country, category)
    now = utcnow()
    hours = target_hours(category)
    values = dict(
        contact_id=contact_id, category=category, country=country, cluster=cluster,
        locality=(locality or None) and locality[:LOCALITY_LIMIT], latitude=latitude,
        longitude=longitude, channel=channel, language=language,
        summary=(summary or None) and summary[:SUMMARY_LIMIT],
        attachments=list(attachments) if attachments else None,
        callback_consent=callback_method is not None, callback_method=callback_method,
        callback_contact_encrypted=callback_contact_encrypted, callback_time=callback_time,
        sensitive=sensitive, status="new", partner_id=partner.id if partner else None,
        due_at=now + timedelta(hours=hours) if hours else None, created_at=now, updated_at=now,
        notify_next_at=now,
    )
    request = _insert_with_unique_code(session, values)
    session.add(RequestEvent(request_id=request.id, kind="created", to_status="new",
                             actor="miner"))
    if contact_id and request.callback_consent:
        session.add(Consent(contact_id=contact_id, request_id=request.id, scope="callback",
                            given_at=now))
    if contact_id and share_conversation:
        session.add(Consent(contact_id=contact_id, request_id=request.id,
                            scope="share_conversation", given_at=now))
    session.flush()
    log.info("requests: %s created (%s, %s) for %s", request.reference_code, category,
             country or "-", partner.id if partner else "no partner")
    return request


def _insert_with_unique_code(session: Session, values: dict[str, Any]) -> FollowUpRequest:
    for _ in range(10):
        code = new_reference_code(values["country"])
        if session.scalar(select(FollowUpRequest.id).where(
                FollowUpRequest.reference_code == code)) is not None:
            continue
        request = FollowUpRequest(reference_code=code, **values)
        try:
            with session.begin_nested():  # a concurrent insert of the same code: try another
                session.add(request)
                session.flush()
        except IntegrityError:
            continue
        return request
    raise RuntimeError("could not find a free reference code")


def find_for_contact(session: Session, code: str | None,
                     contact_id: str | None) -> FollowUpRequest | None:
    """The request with this code, only if this contact made it (others get nothing)."""
    code = normalize_reference_code(code)
    if not code or not contact_id:
        return None
    return session.scalar(select(FollowUpRequest).where(
        FollowUpRequest.reference_code == code, FollowUpRequest.contact_id == contact_id))


def requests_of(session: Session, contact_id: str, limit: int = 3) -> list[FollowUpRequest]:
    return list(session.scalars(
        select(FollowUpRequest).where(FollowUpRequest.contact_id == contact_id)
        .order_by(FollowUpRequest.created_at.desc(), FollowUpRequest.id.desc()).limit(limit)))


def change_status(session: Session, request: FollowUpRequest, to_status: str, *,
                  actor: str | None = None, message: str | None = None) -> RequestEvent:
    """Move a request along its workflow, recording who did it; InvalidTransition otherwise."""
    if to_status not in STATUSES:
        raise InvalidTransition(f"unknown status {to_status!r}")
    if to_status not in TRANSITIONS[request.status]:
        raise InvalidTransition(f"{request.status} -> {to_status} is not allowed")
    kind = "reopened" if request.status in ("resolved", "closed") else "status"
    event = RequestEvent(request_id=request.id, kind=kind, from_status=request.status,
                         to_status=to_status, message=message, actor=actor)
    request.status = to_status
    request.updated_at = utcnow()
    session.add(event)
    session.flush()
    return event


def add_event(session: Session, request: FollowUpRequest, kind: str, *,
              message: str | None = None, actor: str | None = None) -> RequestEvent:
    event = RequestEvent(request_id=request.id, kind=kind, message=message, actor=actor)
    session.add(event)
    session.flush()
    return event


def history(session: Session, request: FollowUpRequest) -> list[RequestEvent]:
    return list(session.scalars(select(RequestEvent).where(
        RequestEvent.request_id == request.id).order_by(RequestEvent.at, RequestEvent.id)))


# ----------------------------------------------------------------------- consent
def active_consents(session: Session, contact_id: str, scope: str | None = None) -> list[Consent]:
    query = select(Consent).where(Consent.contact_id == contact_id,
                                  Consent.withdrawn_at.is_(None))
    if scope:
        query = query.where(Consent.scope == scope)
    return list(session.scalars(query.order_by(Consent.id)))


def withdraw_consent(session: Session, contact_id: str, scope: str,
                     when: datetime | None = None) -> int:
    """Withdraw a consent; for `callback`, the call-back contact of open requests is erased.

    Returns how many consents were withdrawn.
    """
    if scope not in CONSENT_SCOPES:
        raise ValueError(f"unknown consent scope {scope!r}")
    when = when or utcnow()
    consents = active_consents(session, contact_id, scope)
    for consent in consents:
        consent.withdrawn_at = when
        request = session.get(FollowUpRequest, consent.request_id) if consent.request_id else None
        if request is None:
            continue
        if scope == "callback":
            request.callback_consent = False
            request.callback_method = request.callback_contact_encrypted = None
            request.callback_time = None
        elif scope == "share_conversation" and request.category == "talk_to_person":
            request.summary = None
        request.updated_at = when
        add_event(session, request, "consent_withdrawn", message=scope, actor="miner")
    session.flush()
    return len(consents)
