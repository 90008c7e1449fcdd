"""The requests list, one request's page and the forms on it (reply, status, note,
assignment, call-back), the call-back queue, attachments."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlencode

from starlette.responses import FileResponse, RedirectResponse, Response

from bot.dashboard import labels
from bot.dashboard.views import PAGE_SIZE, PREFIX, Ctx, Http, Views
from bot.store import dashboard as ds
from bot.store import requests as store_requests

# Served inline only when it is one of these; anything else is a download.
SAFE_MEDIA = {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav",
              "audio/webm", "audio/x-m4a", "image/jpeg", "image/png", "image/webp",
              "image/gif"}


class RequestPages(Views):
    def home(self, ctx: Ctx) -> Response:
        return RedirectResponse(f"{PREFIX}/requests", 303)

    def list_page(self, ctx: Ctx) -> Response:
        params = ctx.request.query_params
        filters = ds.Filters.parse(params)
        page = ds.list_requests(ctx.db, ctx.me, filters, params.get("after"), PAGE_SIZE)
        now = ds.utcnow()
        rows = [(r, ds.is_overdue(r, now)) for r in page.rows]
        query = filters.as_params()
        return self.render("list.html", ctx, rows=rows, filters=filters, query=query,
                           next_url=f"{PREFIX}/requests?" + urlencode(
                               {**query, "after": page.next_cursor}) if page.next_cursor
                           else None,
                           export_query=urlencode(query), first=not params.get("after"),
                           countries=labels.COUNTRIES, statuses=store_requests.STATUSES,
                           categories=store_requests.CATEGORIES)

    def request_page(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        if request.sensitive:
            ds.audit(ctx.db, ctx.me, "view_protection", request_code=request.reference_code,
                     address=ctx.address)
        me = ctx.me
        return self.render(
            "request.html", ctx, r=request, overdue=ds.is_overdue(request),
            history=store_requests.history(ctx.db, request),
            attachments=ds.attachments(ctx.db, request),
            notes=ds.notes(ctx.db, request), assignee=ds.assignment(ctx.db, request),
            colleagues=ds.assignable_users(ctx.db, me, request),
            deliveries=ds.deliveries(ctx.db, request),
            window=ds.reply_window(ctx.db, request),
            can_reply=ds.can(me, "reply", request), can_status=ds.can(me, "status", request),
            can_note=ds.can(me, "note", request), can_assign=ds.can(me, "assign", request),
            can_reveal=ds.can(me, "reveal_callback", request)
            and bool(request.callback_contact_encrypted),
            next_statuses=sorted(store_requests.TRANSITIONS.get(request.status, ()),
                                 key=store_requests.STATUSES.index),
            flash=ctx.request.query_params.get("ok"), number=None,
            saved=ds.saved_replies(ctx.db, me, request.language)
            if ds.can(me, "reply", request) else [],
            draft=self._draft(ctx))

    def _draft(self, ctx: Ctx) -> str:
        """A saved reply chosen with ?saved=<id> fills the reply box (no JavaScript)."""
        value = ctx.request.query_params.get("saved", "")
        row = ds.saved_reply(ctx.db, ctx.me, int(value)) if value.isdigit() else None
        return row.text if row else ""

    def reply(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        if not ds.can(ctx.me, "reply", request):
            raise Http(403)
        message = (ctx.form.get("message") or "").strip()
        if not message:
            raise Http(400, self.gettext("Le message est vide."))
        ds.reply(ctx.db, ctx.me, request, message)
        return self._back(request.reference_code, "reply")

    def status(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        if not ds.can(ctx.me, "status", request):
            raise Http(403)
        try:
            ds.set_status(ctx.db, ctx.me, request, ctx.form.get("status") or "",
                          ctx.form.get("message"))
        except store_requests.InvalidTransition:
            raise Http(409, self.gettext("Ce changement de statut n'est pas possible.")) \
                from None
        return self._back(request.reference_code, "status")

    def note(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        if not ds.can(ctx.me, "note", request):
            raise Http(403)
        if not (ctx.form.get("text") or "").strip():
            raise Http(400, self.gettext("La note est vide."))
        ds.add_note(ctx.db, ctx.me, request, ctx.form["text"])
        return self._back(request.reference_code, "note")

    def assign(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        if not ds.can(ctx.me, "assign", request):
            raise Http(403)
        value = (ctx.form.get("user_id") or "").strip()
        try:
            ds.assign(ctx.db, ctx.me, request, int(value) if value.isdigit() else None)
        except ValueError:
            raise Http(400, self.gettext("Cette personne ne peut pas suivre la demande.")) \
                from None
        return self._back(request.reference_code, "assign")

    def callback(self, ctx: Ctx) -> Response:
        """Shows the call-back number on this one response (never in a URL), audited."""
        request = self._request(ctx, ctx.request.path_params["code"])
        if not ds.can(ctx.me, "reveal_callback", request):
            raise Http(403)
        number = ds.reveal_callback(ctx.db, ctx.me, request, self._vault())
        return self.render("callback.html", ctx, r=request, number=number)

    def callbacks_page(self, ctx: Ctx) -> Response:
        if ctx.me.role != "protection":
            raise Http(404)
        return self.render("callbacks.html", ctx, rows=ds.callback_queue(ctx.db, ctx.me),
                           now=ds.utcnow())

    def callback_outcome(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        try:
            ds.record_callback_outcome(ctx.db, ctx.me, request, ctx.form.get("outcome") or "")
        except PermissionError:
            raise Http(403) from None
        except ValueError:
            raise Http(400) from None
        return RedirectResponse(f"{PREFIX}/callbacks", 303)

    def media(self, ctx: Ctx) -> Response:
        request = self._request(ctx, ctx.request.path_params["code"])
        media = ds.attachment_file(ctx.db, request, ctx.request.path_params["media_id"])
        if media is None:
            raise Http(404)
        root = Path(self.settings.media_dir).resolve()
        path = (root / media.path).resolve()
        if root not in path.parents or not path.is_file():
            raise Http(404)
        kind = (media.mime_type or mimetypes.guess_type(path.name)[0] or "").split(";")[0]
        kind = kind.strip().lower()
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
        if kind not in SAFE_MEDIA:
            kind = "application/octet-stream"
            headers["Content-Disposition"] = f'attachment; filename="piece-{media.id}"'
        return FileResponse(path, media_type=kind, headers=headers)
