"""What the partners' dashboard reads and changes (docs/DASHBOARD.md), one module per job:

- `access`: organisations, the signed-in `Principal`, the one permission rule (`can` for one
  request, `visible` as the same rule in SQL; a test checks that both agree on every request);
- `accounts`: passwords, the second factor, demo accounts, sessions and CSRF tokens;
- `audit`: the audit log;
- `listing`: filters, the requests list, finding a request, the overview's counts;
- `casework`: notes, assignment, replies and status changes through the outbox, call-backs,
  saved replies;
- `exports`: the list as rows for the CSV and XLSX exports.

The views in `bot/dashboard/` call only these functions, through this package
(`from bot.store import dashboard as ds`).
"""

from __future__ import annotations

from typing import Any

from bot.store.dashboard_models import AuditEntry, SavedReply, User
from bot.store.models import FollowUpRequest, utcnow

from . import accounts as _accounts
from .access import (
    ACTIONS,
    WRITE_ROLES,
    Principal,
    aware,
    can,
    organisations,
    principal_of,
    sync_organisations,
    visible,
)
from .accounts import (
    MIN_PASSWORD,
    TOTP_ROLES,
    USERNAME,
    AccountError,
    authenticate,
    change_password,
    check_password_strength,
    create_user,
    csrf_token,
    csrf_valid,
    demo_username,
    end_session,
    ensure_demo_users,
    hash_password,
    mark_verified,
    needs_totp,
    resume_session,
    set_active,
    start_session,
    totp_enrolled,
    totp_pending_secret,
    use_password_hasher,
    user_by_id,
    users_of,
    verify_totp,
)
from .audit import (
    audit,
    audit_entries,
)
from .casework import (
    CALLBACK_OUTCOMES,
    NOTE_LIMIT,
    REPLY_LIMIT,
    WHATSAPP_WINDOW,
    Attachment,
    Delivery,
    add_note,
    assign,
    assignable_users,
    assignment,
    attachment_file,
    attachments,
    callback_queue,
    delete_saved_reply,
    deliveries,
    notes,
    record_callback_outcome,
    reply,
    reply_window,
    reveal_callback,
    save_reply,
    saved_replies,
    saved_reply,
    set_status,
)
from .exports import (
    EXPORT_COLUMNS,
    PROTECTION_COLUMNS,
    export_rows,
)
from .listing import (
    CODE_PREFIXES,
    OPEN_STATUSES,
    Filters,
    Overview,
    Page,
    code_condition,
    count_requests,
    filtered,
    find_request,
    is_overdue,
    list_requests,
    overview,
)


def __getattr__(name: str) -> Any:
    """The current password hasher (tests swap it with `use_password_hasher`)."""
    if name in ("_hasher", "_DUMMY_HASH"):
        return getattr(_accounts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACTIONS",
    "AccountError",
    "Attachment",
    "AuditEntry",
    "CALLBACK_OUTCOMES",
    "CODE_PREFIXES",
    "Delivery",
    "EXPORT_COLUMNS",
    "Filters",
    "FollowUpRequest",
    "MIN_PASSWORD",
    "NOTE_LIMIT",
    "OPEN_STATUSES",
    "Overview",
    "PROTECTION_COLUMNS",
    "Page",
    "Principal",
    "REPLY_LIMIT",
    "TOTP_ROLES",
    "USERNAME",
    "SavedReply",
    "User",
    "WHATSAPP_WINDOW",
    "WRITE_ROLES",
    "add_note",
    "assign",
    "assignable_users",
    "assignment",
    "attachment_file",
    "attachments",
    "audit",
    "audit_entries",
    "authenticate",
    "aware",
    "callback_queue",
    "can",
    "change_password",
    "check_password_strength",
    "code_condition",
    "count_requests",
    "create_user",
    "csrf_token",
    "csrf_valid",
    "delete_saved_reply",
    "deliveries",
    "demo_username",
    "end_session",
    "ensure_demo_users",
    "export_rows",
    "filtered",
    "find_request",
    "hash_password",
    "is_overdue",
    "list_requests",
    "mark_verified",
    "needs_totp",
    "notes",
    "organisations",
    "overview",
    "principal_of",
    "record_callback_outcome",
    "reply",
    "reply_window",
    "resume_session",
    "reveal_callback",
    "save_reply",
    "saved_replies",
    "saved_reply",
    "set_active",
    "set_status",
    "start_session",
    "sync_organisations",
    "totp_enrolled",
    "totp_pending_secret",
    "use_password_hasher",
    "user_by_id",
    "users_of",
    "utcnow",
    "verify_totp",
    "visible",
]
