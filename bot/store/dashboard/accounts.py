"""Dashboard accounts: passwords (argon2id), the second factor (TOTP) for protection and
admin staff, demo accounts, browser sessions and their form (CSRF) tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.dashboard.access import aware, organisations, sync_organisations
from bot.store.dashboard_models import (
    ROLES,
    DashboardSession,
    Organisation,
    User,
)
from bot.store.models import utcnow

# argon2id (the library's default type) with its RFC 9106 "low memory" parameters.
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Tests make hashing cheap (still argon2id); production keeps the defaults."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A bad username, password, organisation or role (the message says which, in French)."""


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
    secret = user.totp_secret_encrypted
    return bool(secret) and not (secret or "").startswith(_PENDING)


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
    if now - aware(row.last_seen_at) > idle:
        session.delete(row)
        session.flush()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        session.delete(row)
        session.flush()
        return None
    if touch and now - aware(row.last_seen_at) > timedelta(seconds=30):
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
