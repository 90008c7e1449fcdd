"""What every dashboard page shares: the request context (`Ctx`), the error that answers
with a status (`Http`), and the base class of the page groups (`Views`): templates, the
signed-in user's request lookup, redirects. `bot/dashboard/web.py` puts the groups together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.config import Settings
from bot.dashboard import labels
from bot.dashboard.auth import Cookies, LoginThrottle, dashboard_secret
from bot.i18n import translator
from bot.store import dashboard as ds
from bot.store.dashboard_models import User
from bot.store.db import Database

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
PAGE_SIZE = 50


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


class Views:
    """The base of every page group: settings, database, templates and small helpers."""

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

    def render(self, name: str, ctx: Ctx | None, status: int = 200, **values: Any) -> Response:
        html = self.env.get_template(name).render(
            me=ctx.me if ctx else None, csrf=ctx.csrf if ctx else "", **values)
        return HTMLResponse(html, status)

    def _error(self, status: int, message: str) -> Response:
        return self.render("error.html", None, status=status, message=message)

    def _plain(self, status: int, text: str) -> Response:
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{text}</p>", status)

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

    def _vault(self):
        from bot.store.identities import IdentityVault

        return IdentityVault(self.settings.data_key)
