"""The requests list as rows of text for the CSV and XLSX exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.dashboard.access import Principal, aware
from bot.store.dashboard.listing import Filters, filtered, is_overdue
from bot.store.dashboard_models import (
    RequestAssignment,
    User,
)
from bot.store.models import FollowUpRequest, utcnow

# ----------------------------------------------------------------------- exports
EXPORT_COLUMNS = ("reference", "category", "country", "cluster", "place", "language",
                  "channel", "status", "partner", "created_at", "due_at", "updated_at",
                  "overdue", "assigned_to", "attachments", "description")
PROTECTION_COLUMNS = frozenset({"reference", "status", "created_at", "due_at", "updated_at"})


def _iso(value: datetime | None) -> str:
    return aware(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def export_rows(session: Session, user: Principal, filters: Filters,
                batch: int = 1000) -> Iterator[list[str]]:
    """The filtered list as rows of text, header first, read in batches (never all in
    memory). No phone number, chat id or contact id; a protection request gives only its
    code, dates and status."""
    yield list(EXPORT_COLUMNS)
    r = FollowUpRequest
    now = utcnow()
    where = filtered(user, filters, now)
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
