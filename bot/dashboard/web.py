"""The dashboard's pages: server-rendered (Jinja2), every action a plain HTML form.

Each endpoint reads its form (async), then does its work in a thread (`_run`): one database
unit of work, the signed-in user, the CSRF check of every POST, then the view, which reads
and changes requests only through `bot.store.dashboard`. Out of scope answers 404.

The views are grouped by page in `bot/dashboard/pages/` (account, requests, reports, admin);
`Dashboard` puts them together and routes them. A new page goes into its group's module,
with its route below.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Settings
from bot.dashboard.pages.account import AccountPages
from bot.dashboard.pages.admin import AdminPages
from bot.dashboard.pages.reports import ReportPages, neutralise
from bot.dashboard.pages.requests import SAFE_MEDIA, RequestPages
from bot.dashboard.views import HERE, PAGE_SIZE, PREFIX, Ctx, Http
from bot.store import dashboard as ds
from bot.store.db import Database

log = logging.getLogger(__name__)

__all__ = ["PAGE_SIZE", "PREFIX", "SAFE_MEDIA", "SECURITY_HEADERS", "Ctx", "Dashboard", "Http",
           "mount", "neutralise"]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; media-src 'self'; "
                               "style-src 'self'; script-src 'none'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Dashboard(AccountPages, RequestPages, ReportPages, AdminPages):
    """Every page group, with the routes and the request plumbing they share."""

    def routes(self) -> list[BaseRoute]:
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


def mount(settings: Settings, db: Database, gateway: Any = None) -> Mount:
    return Mount(PREFIX, routes=Dashboard(settings, db, gateway).routes())
