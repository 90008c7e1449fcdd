"""The dashboard's pages: server-rendered (Jinja2), every action a plain HTML form.

Each endpoint reads its form (async), then does its work in a thread (`_run`): one database
unit of work, the signed-in user, the CSRF check of every POST, then the view, which reads
and changes requests only through `bot.store.dashboard`. Out of scope answers 404.
"""

from __future__ import annotations

import csv
import io
import logging
import mimetypes
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Settings
from bot.dashboard import labels
from bot.dashboard.auth import Cookies, LoginThrottle, dashboard_secret
from bot.i18n import translator
from bot.store import dashboard as ds
from bot.store import requests as store_requests
from bot.store.dashboard_models import ROLES, User
from bot.store.db import Database

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
PAGE_SIZE = 50
# Served inline only when it is one of these; anything else is a download.
SAFE_MEDIA = {"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav",
              "audio/webm", "audio/x-m4a", "image/jpeg", "image/png", "image/webp",
              "image/gif"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; media-src 'self'; "
                               "style-src 'self'; script-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Http(Exception):
    def __init__(self, status: int, detail: str = ""):
        self.status, self.detail = status, detail


@dataclass
class Ctx:
    request: Request
    form: dict[str, str]
    db: Session
    user: User | None = None
    me: ds.Principal | None = None
    token: str | None = None
    session_row: Any = None
    csrf: str = ""
    set_pre: str | None = None

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"


class Dashboard:
    def __init__(self, settings: Settings, db: Database, gateway: Any = None):
        self.settings, self.db, self.gateway = settings, db, gateway
        self.secret = dashboard_secret(settings)
        self.cookies = Cookies(settings)
        self.throttle = LoginThrottle(settings.redis_url, self.secret)
        self.idle = timedelta(minutes=settings.dashboard_idle_minutes)
        t = translator("fr")
        self.gettext = t.gettext
        env = Environment(loader=FileSystemLoader(HERE / "templates"),
                          autoescape=select_autoescape(["html"]),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_callables(t.gettext, t.ngettext, newstyle=True)
        env.globals.update(labels=labels, prefix=PREFIX, demo=settings.demo_users,
                           urlencode=urlencode)
        env.filters["when"] = labels.when
        self.env = env

    # ------------------------------------------------------------------ plumbing
    def routes(self) -> list:
        get, post = ["GET"], ["POST"]
        return [
            Route("/", self._endpoint(self.home), methods=get),
            Route("/login", self._endpoint(self.login_form, login=False), methods=get),
            Route("/login", self._endpoint(self.login, login=False), methods=post),
            Route("/logout", self._endpoint(self.logout, partial=True), methods=post),
            Route("/totp", self._endpoint(self.totp_form, partial=True), methods=get),
            Route("/totp", self._endpoint(self.totp, partial=True), methods=post),
            Route("/password", self._endpoint(self.password_form), methods=get),
            Route("/password", self._endpoint(self.password), methods=post),
            Route("/requests", self._endpoint(self.list_page), methods=get),
            Route("/requests/{code}", self._endpoint(self.request_page), methods=get),
            Route("/requests/{code}/reply", self._endpoint(self.reply), methods=post),
            Route("/requests/{code}/status", self._endpoint(self.status), methods=post),
            Route("/requests/{code}/note", self._endpoint(self.note), methods=post),
            Route("/requests/{code}/assign", self._endpoint(self.assign), methods=post),
            Route("/requests/{code}/callback", self._endpoint(self.callback), methods=post),
            Route("/requests/{code}/callback-outcome", self._endpoint(self.callback_outcome),
                  methods=post),
            Route("/callbacks", self._endpoint(self.callbacks_page), methods=get),
            Route("/overview", self._endpoint(self.overview_page), methods=get),
            Route("/replies", self._endpoint(self.replies_page), methods=get),
            Route("/replies", self._endpoint(self.replies_change), methods=post),
            Route("/requests/{code}/media/{media_id:int}", self._endpoint(self.media),
                  methods=get),
            Route("/export.csv", self._endpoint(self.export_csv), methods=get),
            Route("/export.xlsx", self._endpoint(self.export_xlsx), methods=get),
            Route("/audit", self._endpoint(self.audit_page), methods=get),
            Route("/users", self._endpoint(self.users_page), methods=get),
            Route("/users", self._endpoint(self.users_change), methods=post),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ]

    def _endpoint(self, view: Callable[[Ctx], Response], *, login: bool = True,
                  partial: bool = False):
        async def endpoint(request: Request) -> Response:
            form: dict[str, str] = {}
            if request.method == "POST":
                try:
                    data = await request.form(max_files=0, max_fields=50)
                except Exception:  # malformed body
                    return self._plain(400, "Requête invalide.")
                form = {k: v for k, v in data.items() if isinstance(v, str)}
            response = await run_in_threadpool(self._run, view, request, form, login, partial)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response
        return endpoint

    def _plain(self, status: int, text: str) -> Response:
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{text}</p>", status)

    def _run(self, view: Callable[[Ctx], Response], request: Request, form: dict[str, str],
             login: bool, partial: bool = False) -> Response:
        try:
            with self.db.session() as session:
                ctx = Ctx(request, form, session)
                ctx.token = self.cookies.session_token(request)
                found = ds.resume_session(session, ctx.token, self.idle) if ctx.token else None
                if found is not None:
                    ctx.user, ctx.session_row = found
                    ctx.me = ds.principal_of(session, ctx.user)
                    ctx.csrf = ds.csrf_token(self.secret, ctx.token)
                else:
                    ctx.token = None
                    pre = self.cookies.pre_token(request)
                    if pre is None and request.method == "GET":
                        pre = ctx.set_pre = secrets.token_urlsafe(24)
                    ctx.csrf = ds.csrf_token(self.secret, "pre:" + pre) if pre else ""
                if request.method == "POST":
                    token = ctx.token or ("pre:" + (self.cookies.pre_token(request) or ""))
                    if not ds.csrf_valid(self.secret, token, form.get("csrf_token")):
                        raise Http(403, self.gettext(
                            "Formulaire expiré ou invalide. Rechargez la page et recommencez."))
                if login and ctx.me is None:
                    response = RedirectResponse(f"{PREFIX}/login", 303)
                    if request.cookies.get("dash_session"):
                        self.cookies.clear_session(response)
                    return response
                if ctx.me is not None and not ctx.session_row.verified and not partial:
                    # Signed in with the password only: the second factor comes first.
                    return RedirectResponse(f"{PREFIX}/totp", 303)
                response = view(ctx)
                if ctx.set_pre:
                    self.cookies.set_pre(response, ctx.set_pre)
                return response
        except Http as exc:
            if exc.status == 404:
                return self._error(404, self.gettext("Page introuvable."))
            if exc.status == 429:
                response = self._error(429, exc.detail)
                return response
            return self._error(exc.status, exc.detail or self.gettext("Action refusée."))

    def _error(self, status: int, message: str) -> Response:
        return self.render("error.html", None, status=status, message=message)

    def render(self, name: str, ctx: Ctx | None, status: int = 200, **values: Any) -> Response:
        html = self.env.get_template(name).render(
            me=ctx.me if ctx else None, csrf=ctx.csrf if ctx else "", **values)
        return HTMLResponse(html, status)

    def _request(self, ctx: Ctx, code: str):
        request = ds.find_request(ctx.db, ctx.me, code)
        if request is None:
            raise Http(404)
        return request

    def _back(self, code: str, flash: str | None = None) -> Response:
        url = f"{PREFIX}/requests/{code}"
        if flash:
            url += "?" + urlencode({"ok": flash})
        return RedirectResponse(url, 303)

    # --------------------------------------------------------------------- pages
    def home(self, ctx: Ctx) -> Response:
        return RedirectResponse(f"{PREFIX}/requests", 303)

    def login_form(self, ctx: Ctx, error: str | None = None, status: int = 200,
                   username: str = "") -> Response:
        if ctx.me is not None and error is None:
            return RedirectResponse(f"{PREFIX}/requests", 303)
        return self.render("login.html", ctx, status=status, error=error, username=username)

    def login(self, ctx: Ctx) -> Response:
        username = (ctx.form.get("username") or "").strip()[:64]
        password = ctx.form.get("password") or ""
        wait = self.throttle.blocked(username, ctx.address)
        if wait is not None:
            ds.audit(ctx.db, None, "login_throttled", username=username, address=ctx.address)
            response = self.login_form(ctx, self.gettext(
                "Trop d'essais. Réessayez dans 15 minutes."), status=429, username=username)
            response.headers["Retry-After"] = str(wait)
            return response
        user = ds.authenticate(ctx.db, username, password)
        if user is None:
            self.throttle.failed(username, ctx.address)
            ds.audit(ctx.db, None, "login_failed", username=username, address=ctx.address)
            return self.login_form(ctx, self.gettext("Nom d'utilisateur ou mot de passe "
                                                     "incorrect."), status=401,
                                    username=username)
        # Whatever session this browser had ends; the new one has a new id.
        if ctx.token:
            ds.end_session(ctx.db, ctx.token)
        second_factor = ds.needs_totp(user)
        token = ds.start_session(ctx.db, user, verified=not second_factor)
        ds.audit(ctx.db, user, "login_password" if second_factor else "login",
                 address=ctx.address)
        response = RedirectResponse(f"{PREFIX}/totp" if second_factor
                                    else f"{PREFIX}/requests", 303)
        self.cookies.set_session(response, token)
        return response

    def _vault(self):
        from bot.store.identities import IdentityVault

        return IdentityVault(self.settings.data_key)

    def totp_form(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Response:
        if ctx.session_row.verified:
            return RedirectResponse(f"{PREFIX}/requests", 303)
        secret = uri = None
        if not ds.totp_enrolled(ctx.user):
            import pyotp

            secret = ds.totp_pending_secret(ctx.db, ctx.user, self._vault())
            uri = pyotp.TOTP(secret).provisioning_uri(name=ctx.user.username,
                                                      issuer_name="Orpaillage partenaires")
        return self.render("totp.html", ctx, status=status, error=error, secret=secret,
                           uri=uri)

    def totp(self, ctx: Ctx) -> Response:
        if ctx.session_row.verified:
            return RedirectResponse(f"{PREFIX}/requests", 303)
        wait = self.throttle.blocked(ctx.user.username, ctx.address)
        if wait is not None:
            ds.audit(ctx.db, ctx.me, "totp_throttled", address=ctx.address)
            response = self.totp_form(ctx, self.gettext(
                "Trop d'essais. Réessayez dans 15 minutes."), status=429)
            response.headers["Retry-After"] = str(wait)
            return response
        if not ds.verify_totp(ctx.db, ctx.user, ctx.form.get("code") or "", self._vault()):
            self.throttle.failed(ctx.user.username, ctx.address)
            ds.audit(ctx.db, ctx.me, "totp_failed", address=ctx.address)
            return self.totp_form(ctx, self.gettext("Code incorrect."), status=401)
        ds.mark_verified(ctx.db, ctx.session_row)
        ds.audit(ctx.db, ctx.me, "login", address=ctx.address)
        return RedirectResponse(f"{PREFIX}/requests", 303)

    def logout(self, ctx: Ctx) -> Response:
        ds.end_session(ctx.db, ctx.token)
        ds.audit(ctx.db, ctx.me, "logout", address=ctx.address)
        response = RedirectResponse(f"{PREFIX}/login", 303)
        self.cookies.clear_session(response)
        return response

    def password_form(self, ctx: Ctx, error: str | None = None, status: int = 200) -> Response:
        return self.render("password.html", ctx, status=status, error=error)

    def password(self, ctx: Ctx) -> Response:
        if ctx.form.get("new_password") != ctx.form.get("confirm"):
            return self.password_form(ctx, self.gettext(
                "Les deux nouveaux mots de passe sont différents."), 400)
        try:
            ds.change_password(ctx.db, ctx.user, ctx.form.get("current_password") or "",
                               ctx.form.get("new_password") or "")
        except ds.AccountError as exc:
            return self.password_form(ctx, str(exc), 400)
        ds.audit(ctx.db, ctx.me, "password_changed", address=ctx.address)
        token = ds.start_session(ctx.db, ctx.user)  # the others were ended
        response = RedirectResponse(f"{PREFIX}/requests", 303)
        self.cookies.set_session(response, token)
        return response

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

    def overview_page(self, ctx: Ctx) -> Response:
        filters = ds.Filters.parse(ctx.request.query_params)
        data = ds.overview(ctx.db, ctx.me, filters)
        t = self.gettext

        def named(rows, names):
            return [(t(names[k]) if k in names else k, n) for k, n in rows]

        charts = [
            (t("Par statut"), named(data.by_status, labels.STATUS)),
            (t("Par catégorie"), named(data.by_category, labels.CATEGORY)),
            (t("Par pays"), named(data.by_country, labels.COUNTRIES)),
            (t("Par zone"), data.by_cluster),
            (t("Par semaine de réception"), data.by_week),
        ]
        return self.render("overview.html", ctx, data=data, charts=charts,
                           query=filters.as_params())

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

    # -------------------------------------------------------------------- exports
    def _export_rows(self, ctx: Ctx, kind: str) -> tuple[ds.Principal, ds.Filters]:
        filters = ds.Filters.parse(ctx.request.query_params)
        ds.audit(ctx.db, ctx.me, "export", detail=f"{kind} {urlencode(filters.as_params())}",
                 address=ctx.address)
        return ctx.me, filters

    def _rows(self, me: ds.Principal, filters: ds.Filters) -> Iterator[list[str]]:
        with self.db.session() as session:
            yield from ds.export_rows(session, me, filters)

    def export_csv(self, ctx: Ctx) -> Response:
        me, filters = self._export_rows(ctx, "csv")

        def chunks() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
            for n, row in enumerate(self._rows(me, filters)):
                writer.writerow([neutralise(v) for v in row])
                if n % 200 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="demandes.csv"'})

    def export_xlsx(self, ctx: Ctx) -> Response:
        me, filters = self._export_rows(ctx, "xlsx")

        def chunks() -> Iterator[bytes]:
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell

            # Write-only mode keeps rows on disk, not in memory; the finished file is then
            # streamed (an XLSX is a zip: nothing can be sent before it is complete).
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("demandes")
            for row in self._rows(me, filters):
                cells = []
                for value in row:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # text, always: "=..." is never a formula
                    cells.append(cell)
                sheet.append(cells)
            with tempfile.TemporaryFile() as handle:
                workbook.save(handle)
                handle.seek(0)
                while block := handle.read(64 * 1024):
                    yield block

        return StreamingResponse(
            chunks(), media_type="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="demandes.xlsx"'})

    # ---------------------------------------------------------------------- admin
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A CSV cell a spreadsheet will not read as a formula."""
    return "'" + value if value and value.startswith(_FORMULA_START) else value


def mount(settings: Settings, db: Database, gateway: Any = None) -> Mount:
    return Mount(PREFIX, routes=Dashboard(settings, db, gateway).routes())
