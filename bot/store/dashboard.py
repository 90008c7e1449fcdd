"""What the partners' dashboard reads and changes (docs/DASHBOARD.md): accounts, sessions,
the audit log, who may see and do what (`can`, `visible`), the requests list, notes,
assignment, replies and status changes through the outbox, exports.

The views in `bot/dashboard/` call only these functions. The permission rules live here, in
one place: `can(user, action, request)` for one request and `visible(user)`, the same rule
as an SQL condition for lists and exports (a test checks that both agree on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, delete, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.facts import CHANNELS
from bot.i18n import COUNTRIES
from bot.store import requests as store
from bot.store.dashboard_models import (
    ROLES,
    AuditEntry,
    DashboardSession,
    Organisation,
    RequestAssignment,
    RequestNote,
    RequestReply,
    SavedReply,
    User,
)
from bot.store.models import Contact, FollowUpRequest, MediaFile, OutboxMessage, utcnow

log = logging.getLogger(__name__)

# argon2id (the library's default type) with its RFC 9106 "low memory" parameters.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Tests make hashing cheap (still argon2id); production keeps the defaults."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10
NOTE_LIMIT = 2000
REPLY_LIMIT = 1000
ACTIONS = ("view", "listen", "reply", "status", "note", "assign", "reveal_callback")
WRITE_ROLES = frozenset({"caseworker", "protection", "admin"})
WHATSAPP_WINDOW = timedelta(hours=24)


class AccountError(ValueError):
    """A bad username, password, organisation or role (the message says which, in French)."""


def _aware(value: datetime | None) -> datetime | None:
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


def visible(user: Principal):
    """`can(user, "view", r)` as an SQL condition on FollowUpRequest."""
    r = FollowUpRequest
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


# ---------------------------------------------------------------------- accounts
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str, username: str = "") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    if username and username.lower() in password.lower():
        raise AccountError("Le mot de passe ne doit pas contenir le nom d'utilisateur.")


def create_user(session: Session, username: str, password: str, organisation_id: str,
                role: str, *, demo: bool = False, check_strength: bool = True) -> User:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Nom d'utilisateur invalide (lettres minuscules, chiffres, . _ -).")
    if role not in ROLES:
        raise AccountError(f"Rôle inconnu : {role}")
    if session.get(Organisation, organisation_id) is None:
        raise AccountError(f"Organisation inconnue : {organisation_id}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"Le nom {username} est déjà pris.")
    if check_strength:
        check_password_strength(password, username)
    user = User(username=username, password_hash=hash_password(password),
                organisation_id=organisation_id, role=role, demo=demo,
                password_changed_at=utcnow())
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same work either way)."""
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    hashed = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(hashed, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    org = session.get(Organisation, user.organisation_id)
    if org is None or not org.active:
        return None
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AccountError("Mot de passe actuel incorrect.") from None
    check_password_strength(new, user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.demo = False
    # Every other session of this user ends.
    session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    user.active = active
    if not active:
        session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))
    session.flush()


def users_of(session: Session, organisation_id: str) -> list[User]:
    return list(session.scalars(select(User).where(User.organisation_id == organisation_id)
                                .order_by(User.username)))


def demo_username(partner_id: str, role: str) -> str:
    return f"demo-{partner_id}-{role}"


def ensure_demo_users(session: Session, password: str) -> int:
    """`demo-<partner id>-<role>` for every partner of content/partners.yml and every role,
    with this password and no second factor. Returns how many were created. The password is
    hashed once for all of them (startup stays quick)."""
    sync_organisations(session)
    hashed: str | None = None
    created = 0
    for org in organisations(session):
        if org.kind != "partner":
            continue
        for role in ROLES:
            name = demo_username(org.id, role)
            user = session.scalar(select(User).where(User.username == name))
            if user is not None and not user.demo:
                continue  # a real account with that name: never touched
            if user is not None and hashed is None:
                try:
                    _hasher.verify(user.password_hash, password)
                    hashed = user.password_hash
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    pass
            hashed = hashed or hash_password(password)
            if user is None:
                user = User(username=name, organisation_id=org.id, role=role, demo=True,
                            password_hash=hashed, password_changed_at=utcnow())
                session.add(user)
                created += 1
            user.password_hash, user.active = hashed, True
            user.organisation_id, user.role = org.id, role
    session.flush()
    return created


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


# ------------------------------------------------------------ second factor (TOTP)
TOTP_ROLES = frozenset({"protection", "admin"})
_PENDING = "pending:"


def needs_totp(user: User) -> bool:
    """Protection and admin accounts need a second factor (demo accounts excepted)."""
    return user.role in TOTP_ROLES and not user.demo


def totp_enrolled(user: User) -> bool:
    return bool(user.totp_secret_encrypted) and not user.totp_secret_encrypted.startswith(
        _PENDING)


def totp_pending_secret(session: Session, user: User, vault: Any) -> str:
    """The secret being enrolled (made on first use), base32, for the authenticator app."""
    import pyotp

    if user.totp_secret_encrypted and user.totp_secret_encrypted.startswith(_PENDING):
        return vault.decrypt(user.totp_secret_encrypted.removeprefix(_PENDING))
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = _PENDING + vault.encrypt(secret)
    session.flush()
    return secret


def verify_totp(session: Session, user: User, code: str, vault: Any) -> bool:
    """Checks a 6-digit code (one step of clock drift allowed); the first good code of an
    enrolment confirms it."""
    import pyotp

    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"\d{6}", code) or not user.totp_secret_encrypted:
        return False
    pending = user.totp_secret_encrypted.startswith(_PENDING)
    secret = vault.decrypt(user.totp_secret_encrypted.removeprefix(_PENDING))
    if not pyotp.TOTP(secret).verify(code, valid_window=1):
        return False
    if pending:
        user.totp_secret_encrypted = user.totp_secret_encrypted.removeprefix(_PENDING)
        session.flush()
    return True


def mark_verified(session: Session, row: DashboardSession) -> None:
    row.verified = True
    session.flush()


# ---------------------------------------------------------------------- sessions
def _session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, *, verified: bool = True) -> str:
    """A new session (a new id at every login: nothing chosen before login survives it)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(DashboardSession(id=_session_key(token), user_id=user.id, created_at=now,
                                 last_seen_at=now, verified=verified))
    user.last_login_at = now
    session.flush()
    return token


def resume_session(session: Session, token: str | None, idle: timedelta,
                   *, touch: bool = True) -> tuple[User, DashboardSession] | None:
    """The user of a live session; an idle or unknown session is ended and gives None."""
    if not token:
        return None
    row = session.get(DashboardSession, _session_key(token))
    if row is None:
        return None
    now = utcnow()
    if now - _aware(row.last_seen_at) > idle:
        session.delete(row)
        session.flush()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        session.delete(row)
        session.flush()
        return None
    if touch and now - _aware(row.last_seen_at) > timedelta(seconds=30):
        row.last_seen_at = now  # at most one write a half-minute per session
    return user, row


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(DashboardSession).where(
            DashboardSession.id == _session_key(token)))


def csrf_token(secret: str, session_token: str) -> str:
    """The form token of a session (or of a not-yet-signed-in browser): an HMAC of it."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(),
                    hashlib.sha256).hexdigest()


def csrf_valid(secret: str, session_token: str | None, given: str | None) -> bool:
    if not session_token or not given:
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), given)


# --------------------------------------------------------------------- audit log
def audit(session: Session, user: Principal | User | None, action: str, *,
          request_code: str | None = None, detail: str | None = None,
          address: str | None = None, username: str | None = None) -> None:
    """Append an entry. Entries are never updated or deleted."""
    if isinstance(user, User):
        user_id, name, org = user.id, user.username, user.organisation_id
    elif user is not None:
        user_id, name, org = user.user_id, user.username, user.organisation_id
    else:
        # A failed login names an account: its organisation's admins see the attempt.
        user_id, name = None, username
        org = session.scalar(select(User.organisation_id).where(
            User.username == (username or "").strip().lower())) if username else None
    session.add(AuditEntry(user_id=user_id, username=(name or "")[:64] or None,
                           organisation_id=org, action=action, request_code=request_code,
                           detail=(detail or None) and detail[:500],
                           address=(address or None) and address[:64]))
    session.flush()


def audit_entries(session: Session, user: Principal, limit: int = 200,
                  before_id: int | None = None) -> list[AuditEntry]:
    """What an admin may read: the entries of their own organisation's users."""
    if user.role != "admin":
        return []
    query = select(AuditEntry).where(AuditEntry.organisation_id == user.organisation_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


# ------------------------------------------------------------------ the list
@dataclass
class Filters:
    status: str | None = None
    country: str | None = None
    cluster: int | None = None
    category: str | None = None
    language: str | None = None
    channel: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool = False
    q: str | None = None

    @classmethod
    def parse(cls, params: Any) -> Filters:
        def text(name: str, allowed: tuple[str, ...] | None = None,
                 pattern: str = r"^[A-Za-z_]{1,32}$") -> str | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            if allowed is not None:
                return value if value in allowed else None
            return value if re.match(pattern, value) else None

        def day(name: str, end: bool = False) -> datetime | None:
            value = (params.get(name) or "").strip()
            try:
                start = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            except ValueError:
                return None
            return start + timedelta(days=1) if end else start

        cluster = (params.get("cluster") or "").strip()
        return cls(status=text("status", store.STATUSES),
                   country=(text("country", pattern=r"^[A-Za-z]{2}$") or "").upper() or None,
                   cluster=int(cluster) if cluster.isdigit() else None,
                   category=text("category", store.CATEGORIES),
                   language=text("language", pattern=r"^[a-z]{2,3}$"),
                   channel=text("channel", tuple(CHANNELS)),
                   created_from=day("from"), created_to=day("to", end=True),
                   overdue=(params.get("overdue") or "") in ("1", "on", "true", "yes"),
                   q=(params.get("q") or "").strip()[:40] or None)

    def as_params(self) -> dict[str, str]:
        out = {"status": self.status, "country": self.country,
               "cluster": str(self.cluster) if self.cluster is not None else None,
               "category": self.category, "language": self.language, "channel": self.channel,
               "from": self.created_from.strftime("%Y-%m-%d") if self.created_from else None,
               "to": (self.created_to - timedelta(days=1)).strftime("%Y-%m-%d")
               if self.created_to else None,
               "overdue": "1" if self.overdue else None, "q": self.q}
        return {k: v for k, v in out.items() if v}


def code_condition(q: str):
    """A reference code as people type it: "ml 7kq4xr", "ML7KQ4XR", "7kq4xr", "ML-7KQ"."""
    r = FollowUpRequest
    full = store.normalize_reference_code(q)
    if full:
        return r.reference_code == full
    compact = re.sub(r"[\s._–—-]+", "", q.upper())
    if not compact or not re.fullmatch(r"[A-Z0-9]+", compact):
        return false()
    if re.fullmatch(rf"[{store.CODE_ALPHABET}]{{{store.CODE_LENGTH}}}", compact):
        # The code without its country: every prefix a request can have (an index lookup
        # each, not a scan of every code).
        return r.reference_code.in_([f"{c}-{compact}" for c in CODE_PREFIXES])
    if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{0,5}", compact):
        return r.reference_code.like(f"{compact[:2]}-{compact[2:]}%")
    return r.reference_code.like(f"%-{compact}%") if len(compact) >= 3 else false()


OPEN_STATUSES = ("new", "assigned", "in_progress")
# The countries a request can come from, and XX when unknown (store.new_reference_code).
CODE_PREFIXES = (*COUNTRIES, "XX")


def _filtered(user: Principal, filters: Filters, now: datetime):
    r = FollowUpRequest
    conditions = [visible(user)]
    if filters.status:
        conditions.append(r.status == filters.status)
    if filters.country:
        conditions.append(r.country == filters.country)
    if filters.cluster is not None:
        conditions.append(r.cluster == filters.cluster)
    if filters.category:
        conditions.append(r.category == filters.category)
    if filters.language:
        conditions.append(r.language == filters.language)
    if filters.channel:
        conditions.append(r.channel == filters.channel)
    if filters.created_from:
        conditions.append(r.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(r.created_at < filters.created_to)
    if filters.overdue:
        conditions += [r.due_at < now, r.status.in_(OPEN_STATUSES)]
    if filters.q:
        conditions.append(code_condition(filters.q))
    return and_(*conditions)


@dataclass
class Page:
    rows: list[FollowUpRequest]
    next_cursor: str | None


def _cursor_of(request: FollowUpRequest) -> str:
    if request.due_at is None:
        return f"n.{request.id}"
    return f"d.{_aware(request.due_at).strftime('%Y%m%dT%H%M%S%f')}.{request.id}"


def _parse_cursor(cursor: str | None) -> tuple[str, datetime | None, int] | None:
    if not cursor:
        return None
    try:
        parts = cursor.split(".")
        if parts[0] == "n" and len(parts) == 2:
            return "n", None, int(parts[1])
        if parts[0] == "d" and len(parts) == 3:
            when = datetime.strptime(parts[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc)
            return "d", when, int(parts[2])
    except ValueError:
        pass
    return None


def list_requests(session: Session, user: Principal, filters: Filters,
                  cursor: str | None = None, limit: int = 50) -> Page:
    """The requests the user may see, by due date (the earliest first, undated last) then id,
    one page after `cursor` (keyset paging: the same cost on page 1 and page 2,000)."""
    r = FollowUpRequest
    now = utcnow()
    where = _filtered(user, filters, now)
    after = _parse_cursor(cursor)
    rows: list[FollowUpRequest] = []
    if after is None or after[0] == "d":
        dated = select(r).where(where, r.due_at.is_not(None))
        if after is not None:
            when, last_id = after[1], after[2]
            dated = dated.where(or_(r.due_at > when, and_(r.due_at == when, r.id > last_id)))
        rows = list(session.scalars(dated.order_by(r.due_at, r.id).limit(limit + 1)))
    if len(rows) <= limit:
        undated = select(r).where(where, r.due_at.is_(None))
        if after is not None and after[0] == "n":
            undated = undated.where(r.id > after[2])
        rows += list(session.scalars(undated.order_by(r.id).limit(limit + 1 - len(rows))))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _cursor_of(rows[-1]) if more and rows else None)


def count_requests(session: Session, user: Principal, filters: Filters) -> int:
    return session.scalar(select(func.count()).select_from(FollowUpRequest).where(
        _filtered(user, filters, utcnow()))) or 0


def is_overdue(request: FollowUpRequest, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(request.due_at and _aware(request.due_at) < now
                and request.status in OPEN_STATUSES)


def find_request(session: Session, user: Principal, code: str) -> FollowUpRequest | None:
    """The request with this code if the user may see it; None when out of scope."""
    normalized = store.normalize_reference_code(code)
    if not normalized:
        return None
    request = session.scalar(select(FollowUpRequest).where(
        FollowUpRequest.reference_code == normalized))
    if request is None or not can(user, "view", request):
        return None
    return request


# --------------------------------------------------------------- request page
@dataclass
class Attachment:
    id: int
    kind: str
    mime_type: str | None
    size: int | None
    stored: bool


def attachments(session: Session, request: FollowUpRequest) -> list[Attachment]:
    if request.sensitive or not request.attachments:
        return []
    ids = [int(i) for i in request.attachments if str(i).isdigit()]
    rows = session.scalars(select(MediaFile).where(MediaFile.inbox_id.in_(ids))
                           .order_by(MediaFile.id)).all()
    return [Attachment(m.id, m.kind, m.mime_type, m.size, m.status == "stored" and bool(m.path))
            for m in rows]


def attachment_file(session: Session, request: FollowUpRequest,
                    media_id: int) -> MediaFile | None:
    """The stored file of one of this request's attachments, else None."""
    if request.sensitive or not request.attachments:
        return None
    media = session.get(MediaFile, media_id)
    ids = {int(i) for i in request.attachments if str(i).isdigit()}
    if media is None or media.inbox_id not in ids or media.status != "stored" or not media.path:
        return None
    return media


def notes(session: Session, request: FollowUpRequest) -> list[RequestNote]:
    return list(session.scalars(select(RequestNote).where(RequestNote.request_id == request.id)
                                .order_by(RequestNote.at, RequestNote.id)))


def add_note(session: Session, user: Principal, request: FollowUpRequest, text: str) -> RequestNote:
    text = (text or "").strip()
    if not text:
        raise ValueError("empty note")
    if not can(user, "note", request):
        raise PermissionError("note")
    note = RequestNote(request_id=request.id, user_id=user.user_id, username=user.username,
                       text=text[:NOTE_LIMIT])
    session.add(note)
    audit(session, user, "note", request_code=request.reference_code)
    return note


def assignment(session: Session, request: FollowUpRequest) -> User | None:
    row = session.get(RequestAssignment, request.id)
    return session.get(User, row.user_id) if row and row.user_id else None


def assignable_users(session: Session, user: Principal,
                     request: FollowUpRequest) -> list[User]:
    """Colleagues who could follow this request (active, of the user's organisation, and
    protection staff for a protection request)."""
    if not can(user, "assign", request):
        return []
    query = select(User).where(User.organisation_id == user.organisation_id,
                               User.active.is_(True), User.role.in_(tuple(WRITE_ROLES)))
    if request.sensitive:
        query = query.where(User.role == "protection")
    return list(session.scalars(query.order_by(User.username)))


def assign(session: Session, user: Principal, request: FollowUpRequest,
           assignee_id: int | None) -> None:
    if not can(user, "assign", request):
        raise PermissionError("assign")
    assignee = None
    if assignee_id is not None:
        assignee = next((u for u in assignable_users(session, user, request)
                         if u.id == assignee_id), None)
        if assignee is None:
            raise ValueError("not a colleague who can follow this request")
    row = session.get(RequestAssignment, request.id) or RequestAssignment(request_id=request.id)
    row.user_id, row.assigned_by, row.at = (assignee.id if assignee else None), user.username, utcnow()
    session.add(row)
    store.add_event(session, request, "assigned_to",
                    message=assignee.username if assignee else None, actor=user.username)
    if assignee is not None and request.status == "new":
        store.change_status(session, request, "assigned", actor=user.username)
    audit(session, user, "assign", request_code=request.reference_code,
          detail=assignee.username if assignee else "-")


# --------------------------------------------------------- talking to the miner
def _last_outbox_id(session: Session, contact_id: str | None) -> int:
    if not contact_id:
        return 0
    return session.scalar(select(func.max(OutboxMessage.id)).where(
        OutboxMessage.contact_id == contact_id)) or 0


def _send_update(session: Session, user: Principal, request: FollowUpRequest,
                 status: str | None, message: str | None, kind: str) -> RequestReply | None:
    from bot.core.notify import record_partner_update

    before = _last_outbox_id(session, request.contact_id)
    record_partner_update(session, request, status, message, actor=user.username)
    # The row record_partner_update queued (this transaction's, for this contact).
    rows = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.contact_id == request.contact_id, OutboxMessage.id > before)
        .order_by(OutboxMessage.id).limit(1))) if request.contact_id else []
    if not rows and not message:
        return None
    reply = RequestReply(request_id=request.id, outbox_id=rows[0] if rows else None,
                         user_id=user.user_id, username=user.username, kind=kind,
                         text=message)
    session.add(reply)
    session.flush()
    return reply


def reply(session: Session, user: Principal, request: FollowUpRequest,
          message: str) -> RequestReply:
    """The partner's message to the miner, queued in the outbox on the miner's channel."""
    message = (message or "").strip()[:REPLY_LIMIT]
    if not message:
        raise ValueError("empty message")
    if not can(user, "reply", request):
        raise PermissionError("reply")
    result = _send_update(session, user, request, None, message, "reply")
    audit(session, user, "reply", request_code=request.reference_code,
          detail="queued" if result and result.outbox_id else "not sent (no contact)")
    return result


def set_status(session: Session, user: Principal, request: FollowUpRequest, status: str,
               message: str | None = None) -> RequestReply | None:
    """A status change along the workflow (store.InvalidTransition otherwise); the miner hears
    of it, with the message if there is one."""
    if not can(user, "status", request):
        raise PermissionError("status")
    message = (message or "").strip()[:REPLY_LIMIT] or None
    if status == request.status and not message:
        raise store.InvalidTransition(f"already {status}")
    if status != request.status and status not in store.TRANSITIONS.get(request.status, ()):
        raise store.InvalidTransition(f"{request.status} -> {status} is not allowed")
    previous = request.status
    result = _send_update(session, user, request, status, message, "status")
    audit(session, user, "status", request_code=request.reference_code,
          detail=f"{previous} -> {status}")
    return result


@dataclass
class Delivery:
    at: datetime
    username: str | None
    kind: str
    text: str | None
    state: str  # pending | sent | delivered | read | failed | held | none
    error: str | None


def deliveries(session: Session, request: FollowUpRequest) -> list[Delivery]:
    rows = session.execute(
        select(RequestReply, OutboxMessage.status, OutboxMessage.last_error)
        .outerjoin(OutboxMessage, OutboxMessage.id == RequestReply.outbox_id)
        .where(RequestReply.request_id == request.id)
        .order_by(RequestReply.at, RequestReply.id)).all()
    return [Delivery(row.at, row.username, row.kind, row.text,
                     status or ("none" if row.outbox_id is None else "sent"),
                     error if status == "failed" else None)
            for row, status, error in rows]


def reply_window(session: Session, request: FollowUpRequest) -> str:
    """How a reply would reach the miner now: `open`, `closed` (WhatsApp, 24 h since the
    miner last wrote: the approved template goes, the reply is held until they write),
    or `none` (no contact: anonymised, or erasure pending)."""
    if not request.contact_id:
        return "none"
    contact = session.get(Contact, request.contact_id)
    if contact is None or contact.erase_requested_at is not None:
        return "none"
    if request.channel == "whatsapp":
        last = _aware(contact.last_inbound_at)
        if last is None or utcnow() - last > WHATSAPP_WINDOW:
            return "closed"
    return "open"


def reveal_callback(session: Session, user: Principal, request: FollowUpRequest,
                    vault: Any) -> str | None:
    """The call-back number, decrypted for an allowed user, and audited every time."""
    if not can(user, "reveal_callback", request) or not request.callback_contact_encrypted:
        return None
    audit(session, user, "reveal_callback", request_code=request.reference_code)
    return vault.decrypt(request.callback_contact_encrypted)


# ------------------------------------------------------------------ saved replies
def saved_replies(session: Session, user: Principal,
                  language: str | None = None) -> list[SavedReply]:
    """The organisation's saved replies (in `language` first, then French, when given)."""
    query = select(SavedReply).where(SavedReply.organisation_id == user.organisation_id)
    rows = list(session.scalars(query.order_by(SavedReply.language, SavedReply.title)))
    if language:
        rows = [r for r in rows if r.language == language] + \
               [r for r in rows if r.language == "fr" and language != "fr"]
    return rows


def save_reply(session: Session, user: Principal, language: str, title: str,
               text: str) -> SavedReply:
    if user.role != "admin":
        raise PermissionError("saved replies")
    title, text = (title or "").strip()[:80], (text or "").strip()[:REPLY_LIMIT]
    if not title or not text or not re.fullmatch(r"[a-z]{2,3}", language or ""):
        raise AccountError("Il faut une langue, un titre et un texte.")
    row = SavedReply(organisation_id=user.organisation_id, language=language, title=title,
                     text=text, updated_by=user.username)
    session.add(row)
    audit(session, user, "saved_reply_added", detail=f"{language} {title}")
    return row


def delete_saved_reply(session: Session, user: Principal, reply_id: int) -> bool:
    row = session.get(SavedReply, reply_id)
    if user.role != "admin" or row is None or row.organisation_id != user.organisation_id:
        return False
    session.delete(row)
    audit(session, user, "saved_reply_deleted", detail=f"{row.language} {row.title}")
    return True


def saved_reply(session: Session, user: Principal, reply_id: int) -> SavedReply | None:
    row = session.get(SavedReply, reply_id)
    return row if row is not None and row.organisation_id == user.organisation_id else None


# ---------------------------------------------------------------------- overview
@dataclass
class Overview:
    total: int
    overdue: int
    by_status: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_cluster: list[tuple[str, int]]
    by_week: list[tuple[str, int]]
    median_first_reply_hours: float | None
    median_resolution_hours: float | None


def _median_hours(pairs: list[tuple[datetime, datetime]]) -> float | None:
    import statistics

    spans = [(_aware(end) - _aware(start)).total_seconds() / 3600 for start, end in pairs
             if start and end and _aware(end) >= _aware(start)]
    return round(statistics.median(spans), 1) if spans else None


def overview(session: Session, user: Principal, filters: Filters) -> Overview:
    """Counts for reports, over the requests the user may see (with the list's filters)."""
    from bot.store.models import RequestEvent

    r = FollowUpRequest
    now = utcnow()
    where = _filtered(user, filters, now)

    def grouped(column) -> list[tuple[str, int]]:
        rows = session.execute(select(column, func.count()).where(where).group_by(column)
                               .order_by(func.count().desc())).all()
        return [("—" if value is None else str(value), count) for value, count in rows]

    if session.get_bind().dialect.name == "sqlite":
        week = func.strftime("%Y-S%W", r.created_at)
    else:
        week = func.to_char(r.created_at, 'IYYY-"S"IW')
    weeks = session.execute(select(week, func.count()).where(where).group_by(week)
                            .order_by(week.desc()).limit(12)).all()
    total = session.scalar(select(func.count()).select_from(r).where(where)) or 0
    overdue = session.scalar(select(func.count()).select_from(r).where(
        where, r.due_at < now, r.status.in_(OPEN_STATUSES))) or 0
    partner_side = RequestEvent.actor.not_in(("miner", "system"))
    first_reply = session.execute(
        select(r.created_at, func.min(RequestEvent.at)).join(
            RequestEvent, RequestEvent.request_id == r.id)
        .where(where, partner_side, RequestEvent.kind.in_(("message", "status", "reopened")))
        .group_by(r.id, r.created_at)).all()
    resolved = session.execute(
        select(r.created_at, func.min(RequestEvent.at)).join(
            RequestEvent, RequestEvent.request_id == r.id)
        .where(where, RequestEvent.to_status.in_(("resolved", "closed")))
        .group_by(r.id, r.created_at)).all()
    return Overview(total=total, overdue=overdue, by_status=grouped(r.status),
                    by_category=grouped(r.category), by_country=grouped(r.country),
                    by_cluster=grouped(r.cluster),
                    by_week=[(str(w), c) for w, c in reversed(weeks)],
                    median_first_reply_hours=_median_hours(first_reply),
                    median_resolution_hours=_median_hours(resolved))


# -------------------------------------------------------------- call-back queue
CALLBACK_OUTCOMES = ("called", "no_answer", "try_again")


def callback_queue(session: Session, user: Principal, limit: int = 100) -> list[FollowUpRequest]:
    """Open protection requests with a consented call-back, for the protection staff of the
    partner they are routed to, the most urgent first."""
    if user.role != "protection" or user.organisation_kind != "partner":
        return []
    r = FollowUpRequest
    return list(session.scalars(select(r).where(
        visible(user), r.sensitive.is_(True), r.callback_consent.is_(True),
        r.status.in_(OPEN_STATUSES)).order_by(r.due_at, r.id).limit(limit)))


def record_callback_outcome(session: Session, user: Principal, request: FollowUpRequest,
                            outcome: str) -> None:
    """Called, no answer, try again: the outcome and nothing else is recorded."""
    if outcome not in CALLBACK_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if not can(user, "reveal_callback", request) and not (
            request.sensitive and can(user, "status", request)):
        raise PermissionError("callback")
    store.add_event(session, request, "callback", message=outcome, actor=user.username)
    if outcome == "called" and request.status in ("new", "assigned"):
        store.change_status(session, request, "in_progress", actor=user.username)
    audit(session, user, "callback_outcome", request_code=request.reference_code,
          detail=outcome)


# ----------------------------------------------------------------------- exports
EXPORT_COLUMNS = ("reference", "category", "country", "cluster", "place", "language",
                  "channel", "status", "partner", "created_at", "due_at", "updated_at",
                  "overdue", "assigned_to", "attachments", "description")
PROTECTION_COLUMNS = frozenset({"reference", "status", "created_at", "due_at", "updated_at"})


def _iso(value: datetime | None) -> str:
    return _aware(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def export_rows(session: Session, user: Principal, filters: Filters,
                batch: int = 1000) -> Iterator[list[str]]:
    """The filtered list as rows of text, header first, read in batches (never all in
    memory). No phone number, chat id or contact id; a protection request gives only its
    code, dates and status."""
    yield list(EXPORT_COLUMNS)
    r = FollowUpRequest
    now = utcnow()
    where = _filtered(user, filters, now)
    last_id = 0
    while True:
        chunk = session.execute(
            select(r, RequestAssignment.user_id)
            .outerjoin(RequestAssignment, RequestAssignment.request_id == r.id)
            .where(where, r.id > last_id).order_by(r.id).limit(batch)).all()
        if not chunk:
            return
        assignees = {u.id: u.username for u in session.scalars(select(User).where(
            User.id.in_({a for _, a in chunk if a})))} if any(a for _, a in chunk) else {}
        for request, assignee in chunk:
            values = {
                "reference": request.reference_code, "category": request.category,
                "country": request.country or "", "cluster": "" if request.cluster is None
                else str(request.cluster), "place": request.locality or "",
                "language": request.language or "", "channel": request.channel,
                "status": request.status, "partner": request.partner_id or "",
                "created_at": _iso(request.created_at), "due_at": _iso(request.due_at),
                "updated_at": _iso(request.updated_at),
                "overdue": "oui" if is_overdue(request, now) else "non",
                "assigned_to": assignees.get(assignee, "") if assignee else "",
                "attachments": str(len(request.attachments or [])),
                "description": request.summary or "",
            }
            if request.sensitive:
                values = {k: (v if k in PROTECTION_COLUMNS else "") for k, v in values.items()}
            yield [values[c] for c in EXPORT_COLUMNS]
        last_id = chunk[-1][0].id
        session.expunge_all()
