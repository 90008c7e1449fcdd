"""The requests list of the dashboard: filters, keyset pages, finding one request by its
code, and the overview's counts, always within what the user may see (`access.visible`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from bot.facts import CHANNELS
from bot.i18n import COUNTRIES
from bot.store import requests as store
from bot.store.dashboard.access import Principal, aware, can, visible
from bot.store.models import FollowUpRequest, utcnow


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


def filtered(user: Principal, filters: Filters, now: datetime):
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
    return f"d.{aware(request.due_at).strftime('%Y%m%dT%H%M%S%f')}.{request.id}"


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
    where = filtered(user, filters, now)
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
        filtered(user, filters, utcnow()))) or 0


def is_overdue(request: FollowUpRequest, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(request.due_at and aware(request.due_at) < now
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


def _median_hours(pairs: Sequence[Any]) -> float | None:
    """The median span in hours of (start, end) pairs."""
    import statistics

    spans = [(aware(end) - aware(start)).total_seconds() / 3600 for start, end in pairs
             if start and end and aware(end) >= aware(start)]
    return round(statistics.median(spans), 1) if spans else None


def overview(session: Session, user: Principal, filters: Filters) -> Overview:
    """Counts for reports, over the requests the user may see (with the list's filters)."""
    from bot.store.models import RequestEvent

    r = FollowUpRequest
    now = utcnow()
    where = filtered(user, filters, now)

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
