"""Who may see and do what on the partners' dashboard: organisations, the signed-in
`Principal`, and the one permission rule, `can(user, action, request)` for one request and
`visible(user)`, the same rule as an SQL condition for lists and exports (a test checks that
both agree on every request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import overload

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store import requests as store
from bot.store.dashboard_models import (
    Organisation,
    User,
)
from bot.store.models import FollowUpRequest

ACTIONS = ("view", "listen", "reply", "status", "note", "assign", "reveal_callback")
WRITE_ROLES = frozenset({"caseworker", "protection", "admin"})


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """A naive datetime from the database (SQLite) read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# ---------------------------------------------------------------- organisations
def sync_organisations(session: Session, data: store.ReferenceData | None = None) -> None:
    """Partners and committees of content/partners.yml become organisations (idempotent)."""
    data = data or store.load_reference_data()
    for raw in data.partners:
        org = session.get(Organisation, raw["id"]) or Organisation(id=raw["id"])
        org.kind, org.name = "partner", raw.get("name") or raw["id"]
        org.oversight = bool(raw.get("oversight", False))
        org.clusters, org.active = None, bool(raw.get("active", True))
        session.add(org)
    for raw in data.committees:
        org = session.get(Organisation, raw["id"]) or Organisation(id=raw["id"])
        org.kind, org.name = "committee", raw.get("name") or raw["id"]
        org.oversight, org.clusters = False, sorted({int(c) for c in raw["clusters"]})
        org.active = bool(raw.get("active", True))
        session.add(org)
    session.flush()


def organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.kind,
                                                              Organisation.id)))


# ------------------------------------------------------------------- principals
@dataclass(frozen=True)
class Principal:
    """A signed-in user as the permission rules see them."""

    user_id: int
    username: str
    role: str
    organisation_id: str
    organisation_kind: str = "partner"
    oversight: bool = False
    clusters: tuple[int, ...] = field(default_factory=tuple)
    demo: bool = False
    organisation_name: str = ""


def principal_of(session: Session, user: User) -> Principal:
    org = session.get(Organisation, user.organisation_id)
    return Principal(user_id=user.id, username=user.username, role=user.role,
                     organisation_id=user.organisation_id,
                     organisation_kind=org.kind if org else "partner",
                     oversight=bool(org and org.oversight and org.kind == "partner"),
                     clusters=tuple(org.clusters or ()) if org else (),
                     demo=user.demo, organisation_name=org.name if org else user.organisation_id)


# ------------------------------------------------------------------ permissions
def _sees(user: Principal, request: FollowUpRequest) -> bool:
    if request.sensitive:
        # Protection requests: the protection staff of the partner they are routed to, only.
        return (user.role == "protection" and user.organisation_kind == "partner"
                and request.partner_id == user.organisation_id)
    if user.organisation_kind == "committee":
        return request.cluster is not None and request.cluster in user.clusters
    return request.partner_id == user.organisation_id or user.oversight


def _acts_for(user: Principal, request: FollowUpRequest) -> bool:
    """Writes belong to the organisation the request is routed to (oversight partners act on
    requests that no partner received)."""
    if user.organisation_kind != "partner":
        return False
    return request.partner_id == user.organisation_id or (
        request.partner_id is None and user.oversight)


def can(user: Principal | None, action: str, request: FollowUpRequest | None) -> bool:
    """The one permission rule. Views answer 404 when `can(user, "view", request)` is False
    (out of scope: the code's existence is not revealed), 403 for a forbidden action on a
    request the user may see."""
    if user is None or request is None or action not in ACTIONS:
        return False
    if not _sees(user, request):
        return False
    if action in ("view", "listen"):
        return True
    if action == "note":
        return user.role in WRITE_ROLES
    if action == "reveal_callback":
        return (request.callback_method == "phone" and _acts_for(user, request)
                and (user.role == "protection" if request.sensitive else user.role in WRITE_ROLES))
    return user.role in WRITE_ROLES and _acts_for(user, request)


def visible(user: Principal) -> ColumnElement[bool]:
    """`can(user, "view", r)` as an SQL condition on FollowUpRequest."""
    r = FollowUpRequest
    protection: ColumnElement[bool]
    ordinary: ColumnElement[bool]
    if user.role == "protection" and user.organisation_kind == "partner":
        protection = and_(r.sensitive.is_(True), r.partner_id == user.organisation_id)
    else:
        protection = false()
    if user.organisation_kind == "committee":
        ordinary = r.cluster.in_(list(user.clusters)) if user.clusters else false()
    elif user.oversight:
        ordinary = true()
    else:
        ordinary = r.partner_id == user.organisation_id
    return or_(and_(r.sensitive.is_(False), ordinary), protection)
