"""The dashboard's audit log: appended to, never updated or deleted; read by admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.dashboard.access import Principal
from bot.store.dashboard_models import (
    AuditEntry,
    User,
)


# --------------------------------------------------------------------- audit log
def audit(session: Session, user: Principal | User | None, action: str, *,
          request_code: str | None = None, detail: str | None = None,
          address: str | None = None, username: str | None = None) -> None:
    """Append an entry. Entries are never updated or deleted."""
    user_id: int | None
    name: str | None
    org: str | None
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
