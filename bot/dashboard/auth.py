"""Cookies, CSRF tokens and login throttling of the dashboard.

- The session cookie holds a random token signed with itsdangerous (HttpOnly, SameSite=Lax,
  Secure by `DASHBOARD_COOKIE_SECURE`); the database keeps only its hash, with the time it was
  last used (idle timeout). A new token is made at every login.
- Before login, a browser gets a signed random "pre-session" id, so the login form has a
  CSRF token too. Every POST carries `csrf_token`, an HMAC of the session's (or pre-session's)
  token: a POST without the right one answers 403.
- Login throttling with `limits` (moving windows, in memory or in Redis with REDIS_URL):
  after 5 failures for a username or for an address within 15 minutes, 429.
"""

from __future__ import annotations

import hashlib
import logging
import time

from itsdangerous import BadSignature, Signer
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from bot.config import Settings, reveal

log = logging.getLogger(__name__)

SESSION_COOKIE = "dash_session"
PRE_COOKIE = "dash_pre"
LOGIN_FAILURES = "5/15 minutes"


def dashboard_secret(settings: Settings) -> str:
    return reveal(settings.dashboard_secret) or hashlib.sha256(
        b"dashboard:" + settings.data_key.get_secret_value().encode()).hexdigest()


class Cookies:
    def __init__(self, settings: Settings):
        self.secure = settings.dashboard_cookie_secure
        secret = dashboard_secret(settings)
        self._session = Signer(secret, salt="dashboard-session")
        self._pre = Signer(secret, salt="dashboard-pre")
        self.max_age = settings.dashboard_idle_minutes * 60

    def _read(self, signer: Signer, request: Request, name: str) -> str | None:
        value = request.cookies.get(name)
        if not value:
            return None
        try:
            return signer.unsign(value).decode()
        except BadSignature:
            return None

    def session_token(self, request: Request) -> str | None:
        return self._read(self._session, request, SESSION_COOKIE)

    def pre_token(self, request: Request) -> str | None:
        return self._read(self._pre, request, PRE_COOKIE)

    def _set(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/dashboard", httponly=True,
                            samesite="lax", secure=self.secure)

    def set_session(self, response: Response, token: str) -> None:
        self._set(response, SESSION_COOKIE, self._session.sign(token).decode(), None)
        response.delete_cookie(PRE_COOKIE, path="/dashboard")

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/dashboard", httponly=True,
                               samesite="lax", secure=self.secure)

    def set_pre(self, response: Response, token: str) -> None:
        self._set(response, PRE_COOKIE, self._pre.sign(token).decode(), 3600)


class LoginThrottle:
    """Counts failed logins per username and per address; `blocked` once either reached 5
    within 15 minutes. Keys are hashed before they reach the storage."""

    def __init__(self, redis_url: str | None, secret: str, limit: str = LOGIN_FAILURES):
        self._limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))
        self._limit = parse(limit)
        self._key = hashlib.sha256(b"dashboard-login:" + secret.encode()).hexdigest()[:16]

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        name = hashlib.sha256(f"{self._key}:{username.strip().lower()}".encode()).hexdigest()
        where = hashlib.sha256(f"{self._key}:{address}".encode()).hexdigest()
        return [("user", name), ("address", where)]

    def blocked(self, username: str, address: str) -> int | None:
        """Seconds to wait when blocked, else None."""
        try:
            for scope, key in self._keys(username, address):
                if not self._limiter.test(self._limit, "dashboard-login", scope, key):
                    stats = self._limiter.get_window_stats(self._limit, "dashboard-login",
                                                           scope, key)
                    return max(1, int(stats.reset_time - time.time()))
        except Exception as exc:  # storage down: do not lock everyone out, say so
            log.warning("dashboard: login throttle storage unavailable (%s)",
                        type(exc).__name__)
        return None

    def failed(self, username: str, address: str) -> None:
        try:
            for scope, key in self._keys(username, address):
                self._limiter.hit(self._limit, "dashboard-login", scope, key)
        except Exception as exc:
            log.warning("dashboard: login throttle storage unavailable (%s)",
                        type(exc).__name__)
