"""Tables of the partners' dashboard (docs/DASHBOARD.md): organisations, accounts, sessions,
the append-only audit log, internal notes, assignment, and the replies sent from the dashboard.

Imported by `bot.store.models` users through `bot.store.dashboard`; the migration is
`0007_dashboard`. No personal data of miners here: requests are referred to by id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, IdType, utcnow

ROLES = ("viewer", "caseworker", "protection", "admin")


class Organisation(Base):
    """A partner of content/partners.yml (kind `partner`), or a local monitoring and alert
    committee scoped to clusters (kind `committee`, `clusters` = cluster numbers)."""

    __tablename__ = "dashboard_organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="partner")  # partner | committee
    name: Mapped[str] = mapped_column(String(120))
    oversight: Mapped[bool] = mapped_column(default=False)
    clusters: Mapped[list[int] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)


class User(Base):
    __tablename__ = "dashboard_users"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("dashboard_organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # viewer | caseworker | protection | admin
    active: Mapped[bool] = mapped_column(default=True)
    demo: Mapped[bool] = mapped_column(default=False)
    # Encrypted with DATA_ENCRYPTION_KEY (Fernet); None until the user enrols.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()


class DashboardSession(Base):
    """A signed-in browser. The cookie carries the signed token; only its hash is stored."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # False between the password and the second factor (TOTP users).
    verified: Mapped[bool] = mapped_column(default=True)


class AuditEntry(Base):
    """Append-only: rows are only ever inserted (no update or delete in the code)."""

    __tablename__ = "dashboard_audit"
    __table_args__ = (Index("ix_dashboard_audit_at", "at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="SET NULL"))
    username: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    request_code: Mapped[str | None] = mapped_column(String(12), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class RequestNote(Base):
    """An internal note on a request: never sent to the miner."""

    __tablename__ = "request_notes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_requests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="SET NULL"))
    username: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text)


class RequestAssignment(Base):
    """Who of the organisation follows a request (one at a time)."""

    __tablename__ = "request_assignments"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_requests.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="SET NULL"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestReply(Base):
    """A message a partner sent to the miner from the dashboard, and its outbox row (whose
    status is the delivery state: pending, sent, delivered, read, failed, held)."""

    __tablename__ = "request_replies"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_requests.id", ondelete="CASCADE"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="SET NULL"))
    username: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | status
    text: Mapped[str | None] = mapped_column(Text)


class SavedReply(Base):
    """A reply an organisation often sends, per language; admins edit them."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("dashboard_organisations.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
