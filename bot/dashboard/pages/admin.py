"""Administration of one organisation: saved replies, users, the audit log."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from bot.dashboard.views import PREFIX, Ctx, Http, Views
from bot.store import dashboard as ds
from bot.store.dashboard_models import ROLES


class AdminPages(Views):
    def replies_page(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Response:
        if ctx.me.role != "admin":
            raise Http(404)
        return self.render("replies.html", ctx, status=status, error=error,
                           rows=ds.saved_replies(ctx.db, ctx.me))

    def replies_change(self, ctx: Ctx) -> Response:
        if ctx.me.role != "admin":
            raise Http(404)
        if ctx.form.get("action") == "delete":
            value = ctx.form.get("reply_id") or ""
            if not (value.isdigit() and ds.delete_saved_reply(ctx.db, ctx.me, int(value))):
                raise Http(404)
        else:
            try:
                ds.save_reply(ctx.db, ctx.me, ctx.form.get("language") or "",
                              ctx.form.get("title") or "", ctx.form.get("text") or "")
            except ds.AccountError as exc:
                return self.replies_page(ctx, str(exc), 400)
        return RedirectResponse(f"{PREFIX}/replies", 303)

    def audit_page(self, ctx: Ctx) -> Response:
        if ctx.me.role != "admin":
            raise Http(404)
        before = ctx.request.query_params.get("before", "")
        entries = ds.audit_entries(ctx.db, ctx.me, before_id=int(before)
                                   if before.isdigit() else None)
        return self.render("audit.html", ctx, entries=entries)

    def users_page(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Response:
        if ctx.me.role != "admin":
            raise Http(404)
        return self.render("users.html", ctx, users=ds.users_of(ctx.db, ctx.me.organisation_id),
                           roles=ROLES, error=error, status=status)

    def users_change(self, ctx: Ctx) -> Response:
        if ctx.me.role != "admin":
            raise Http(404)
        action = ctx.form.get("action")
        try:
            if action == "create":
                user = ds.create_user(ctx.db, ctx.form.get("username") or "",
                                      ctx.form.get("password") or "", ctx.me.organisation_id,
                                      ctx.form.get("role") or "")
                ds.audit(ctx.db, ctx.me, "user_created", detail=f"{user.username} {user.role}")
            elif action in ("deactivate", "activate"):
                target = ds.user_by_id(ctx.db, int(ctx.form.get("user_id") or 0))
                if target is None or target.organisation_id != ctx.me.organisation_id \
                        or target.id == ctx.me.user_id:
                    raise Http(404)
                ds.set_active(ctx.db, target, action == "activate")
                ds.audit(ctx.db, ctx.me, f"user_{action}d", detail=target.username)
            else:
                raise Http(400)
        except ds.AccountError as exc:
            return self.users_page(ctx, str(exc), 400)
        return RedirectResponse(f"{PREFIX}/users", 303)
