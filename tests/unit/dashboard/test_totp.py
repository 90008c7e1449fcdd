"""The second factor: mandatory for protection and admin accounts (not for demo accounts)."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from bot.store import dashboard as ds
from tests.unit.dashboard.conftest import PASSWORD, TOTP_SECRET, csrf_of


def _password_step(world, username, password=PASSWORD):
    client = world.client()
    page = client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={
        "username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False)
    return client, response


def test_protection_and_admin_need_the_code_viewers_do_not(fresh_world):
    _, viewer = _password_step(fresh_world, "femima-viewer")
    assert viewer.headers["location"] == "/dashboard/requests"
    for name in ("femima-protection", "femima-admin"):
        client, response = _password_step(fresh_world, name)
        assert response.headers["location"] == "/dashboard/totp"
        # Nothing but the code page (and logout) until the code is given.
        code = fresh_world.codes["FEMIMA"]
        for url in ("/dashboard/requests", f"/dashboard/requests/{code}", "/dashboard/export.csv"):
            blocked = client.get(url, follow_redirects=False)
            assert blocked.status_code == 303 and blocked.headers["location"] == "/dashboard/totp"
        page = client.get("/dashboard/totp")
        wrong = client.post("/dashboard/totp", data={"code": "000000",
                                                     "csrf_token": csrf_of(page.text)})
        assert wrong.status_code == 401
        ok = client.post("/dashboard/totp", data={
            "code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": csrf_of(page.text)},
            follow_redirects=False)
        assert ok.headers["location"] == "/dashboard/requests"
        assert client.get("/dashboard/requests").status_code == 200
    with fresh_world.db.session() as session:
        actions = list(session.scalars(select(ds.AuditEntry.action)))
    assert "totp_failed" in actions and "login_password" in actions


def test_first_login_enrols_a_new_secret(fresh_world):
    with fresh_world.db.session() as session:
        user = ds.create_user(session, "nouveau-protection", PASSWORD, "femima", "protection")
    client, response = _password_step(fresh_world, "nouveau-protection")
    page = client.get("/dashboard/totp")
    secret = re.search(r'<p class="number">([A-Z2-7]{32})</p>', page.text).group(1)
    assert "otpauth://totp/" in page.text
    assert client.post("/dashboard/totp", data={
        "code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page.text)},
        follow_redirects=False).headers["location"] == "/dashboard/requests"
    with fresh_world.db.session() as session:
        stored = session.get(ds.User, user.id).totp_secret_encrypted
        assert stored and secret not in stored and ds.totp_enrolled(session.get(ds.User, user.id))


def test_code_guessing_is_throttled(fresh_world):
    client, _ = _password_step(fresh_world, "femima-admin")
    page = client.get("/dashboard/totp")
    for _ in range(5):
        assert client.post("/dashboard/totp", data={
            "code": "123456", "csrf_token": csrf_of(page.text)}).status_code == 401
    assert client.post("/dashboard/totp", data={
        "code": pyotp.TOTP(TOTP_SECRET).now(),
        "csrf_token": csrf_of(page.text)}).status_code == 429
