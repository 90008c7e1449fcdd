"""Signing in and out: password, second factor (TOTP), password change."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from bot.dashboard.views import PREFIX, Ctx, Views
from bot.store import dashboard as ds


class AccountPages(Views):
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
