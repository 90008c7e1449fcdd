"""Signing in and staying safe: the login form, CSRF, throttling, session fixation, idle
timeout, logout, password change, cookies, demo accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.config import ConfigurationError, load_settings
from bot.store import dashboard as ds
from bot.store.dashboard_models import AuditEntry, DashboardSession
from tests.unit.dashboard.conftest import PASSWORD, build_world, csrf_of


def test_login_form_has_the_contract_fields(fresh_world):
    page = fresh_world.client().get("/dashboard/login")
    assert page.status_code == 200
    assert re.search(r'<input name="username"', page.text)
    assert re.search(r'<input name="password" type="password"', page.text)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[0-9a-f]{64}"', page.text)


def test_login_redirects_to_the_list_and_a_stranger_is_sent_to_login(fresh_world):
    client = fresh_world.login("femima-caseworker")
    assert client.get("/dashboard/requests").status_code == 200
    stranger = fresh_world.client()
    response = stranger.get("/dashboard/requests", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
    assert stranger.get(f"/dashboard/requests/{fresh_world.codes['femima']}",
                        follow_redirects=False).status_code == 303


def test_post_without_a_valid_csrf_token_is_refused(fresh_world):
    anonymous = fresh_world.client()
    anonymous.get("/dashboard/login")
    assert anonymous.post("/dashboard/login", data={
        "username": "femima-caseworker", "password": PASSWORD}).status_code == 403
    client = fresh_world.login("femima-caseworker")
    code = fresh_world.codes["femima"]
    other = fresh_world.login("femima-admin")
    for token in (None, "", "0" * 64, fresh_world.csrf(other)):
        data = {"message": "Bonjour"} | ({"csrf_token": token} if token is not None else {})
        response = client.post(f"/dashboard/requests/{code}/reply", data=data,
                               follow_redirects=False)
        assert response.status_code == 403, token
        response = client.post(f"/dashboard/requests/{code}/status",
                               data={"status": "in_progress"} | (
                                   {"csrf_token": token} if token else {}),
                               follow_redirects=False)
        assert response.status_code == 403
    with fresh_world.db.session() as session:
        assert ds.deliveries(session, session.query(ds.FollowUpRequest).filter_by(
            reference_code=code).one()) == []
    good = client.post(f"/dashboard/requests/{code}/reply",
                       data={"message": "Bonjour", "csrf_token": fresh_world.csrf(client)},
                       follow_redirects=False)
    assert good.status_code == 303


def _attempt(client, username, password):
    page = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"username": username, "password": password,
                                                 "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


def test_five_failures_for_a_username_block_it_with_429(fresh_world):
    client = fresh_world.client()
    for _ in range(5):
        assert _attempt(client, "femima-admin", "wrong password!").status_code == 401
    blocked = _attempt(client, "femima-admin", PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 14 * 60
    with fresh_world.db.session() as session:
        actions = [a.action for a in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions.count("login_failed") == 5 and "login_throttled" in actions


def test_five_failures_from_an_address_block_it_for_every_username(fresh_world):
    client = fresh_world.client()
    for n in range(5):
        assert _attempt(client, f"someone-{n}", "wrong password!").status_code == 401
    assert _attempt(client, "lalumiere-viewer", PASSWORD).status_code == 429


def test_a_new_session_id_at_login_and_a_planted_cookie_is_ignored(fresh_world):
    client = fresh_world.client()
    client.cookies.set("dash_session", "attacker-chosen-value", path="/dashboard")
    first = fresh_world.login("femima-viewer")
    first_cookie = first.cookies.get("dash_session")
    # The same browser signs in again: a new id, and the old one is dead.
    response = _attempt(first, "femima-viewer", PASSWORD)
    assert response.status_code == 303
    second_cookie = first.cookies.get("dash_session")
    assert second_cookie and second_cookie != first_cookie
    stale = fresh_world.client()
    stale.cookies.set("dash_session", first_cookie, path="/dashboard")
    assert stale.get("/dashboard/requests", follow_redirects=False).status_code == 303
    # A planted (unsigned, unknown) cookie is never a session.
    assert client.get("/dashboard/requests", follow_redirects=False).status_code == 303
    with fresh_world.db.session() as session:
        assert session.query(DashboardSession).count() == 1


def test_idle_session_expires(fresh_world):
    client = fresh_world.login("femima-viewer")
    assert client.get("/dashboard/requests").status_code == 200
    with fresh_world.db.session() as session:
        for row in session.query(DashboardSession):
            row.last_seen_at = ds.utcnow() - timedelta(
                minutes=fresh_world.settings.dashboard_idle_minutes + 1)
    response = client.get("/dashboard/requests", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
    with fresh_world.db.session() as session:
        assert session.query(DashboardSession).count() == 0


def test_logout_ends_the_session(fresh_world):
    client = fresh_world.login("femima-viewer")
    cookie = client.cookies.get("dash_session")
    assert client.post("/dashboard/logout", data={"csrf_token": fresh_world.csrf(client)},
                       follow_redirects=False).status_code == 303
    replay = fresh_world.client()
    replay.cookies.set("dash_session", cookie, path="/dashboard")
    assert replay.get("/dashboard/requests", follow_redirects=False).status_code == 303


def test_change_password(fresh_world):
    client = fresh_world.login("femima-viewer")
    csrf = fresh_world.csrf(client)
    weak = client.post("/dashboard/password", data={
        "current_password": PASSWORD, "new_password": "court", "confirm": "court",
        "csrf_token": csrf})
    assert weak.status_code == 400
    done = client.post("/dashboard/password", data={
        "current_password": PASSWORD, "new_password": "un autre mot de passe",
        "confirm": "un autre mot de passe", "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/dashboard/requests", follow_redirects=False).status_code == 200
    assert _attempt(fresh_world.client(), "femima-viewer", PASSWORD).status_code == 401
    fresh_world.login("femima-viewer", "un autre mot de passe")


def test_cookies_are_httponly_lax_and_secure_by_setting(tmp_path):
    from starlette.testclient import TestClient

    world = build_world(tmp_path, dashboard_cookie_secure=True)
    try:
        client = TestClient(world.app, base_url="https://127.0.0.1")  # behind HTTPS
        page = client.get("/dashboard/login")
        pre = page.headers["set-cookie"].lower()
        assert "httponly" in pre and "samesite=lax" in pre and "secure" in pre
        response = client.post("/dashboard/login", data={
            "username": "femima-viewer", "password": PASSWORD,
            "csrf_token": csrf_of(page.text)}, follow_redirects=False)
        cookies = [v.lower() for k, v in response.headers.multi_items() if k == "set-cookie"]
        session_cookie = next(c for c in cookies if c.startswith("dash_session="))
        assert "httponly" in session_cookie and "samesite=lax" in session_cookie
        assert "secure" in session_cookie and "path=/dashboard" in session_cookie
    finally:
        world.close()


def test_pages_carry_security_headers(fresh_world):
    page = fresh_world.client().get("/dashboard/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_demo_users_need_a_password(monkeypatch):
    monkeypatch.setenv("DEMO_USERS", "1")
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(ConfigurationError):
        load_settings()


def test_demo_users_and_banner(tmp_path):
    world = build_world(tmp_path, demo_users=True, demo_password="demo")
    try:
        for partner in ("pact", "femima", "la_lumiere", "action_mines_guinee"):
            for role in ("viewer", "caseworker", "protection", "admin"):
                client = world.login(f"demo-{partner}-{role}", "demo")
                assert 'id="demo-accounts"' in client.get("/dashboard/requests").text
        assert 'id="demo-accounts"' in world.client().get("/dashboard/login").text
    finally:
        world.close()
    plain = build_world(tmp_path / "plain")
    try:
        assert "demo-accounts" not in plain.client().get("/dashboard/login").text
        assert _attempt(plain.client(), "demo-pact-admin", "demo").status_code == 401
    finally:
        plain.close()


def test_create_admin_command(tmp_path, monkeypatch, capsys):
    from bot.config import get_settings
    from bot.dashboard.__main__ import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", "x" * 43 + "=")
    monkeypatch.setenv("DASHBOARD_NEW_PASSWORD", "premier administrateur")
    get_settings.cache_clear()
    try:
        assert main(["create-admin", "--organisation", "femima", "--username", "awa"]) == 0
        assert main(["create-admin", "--organisation", "nowhere", "--username", "bob"]) == 2
    finally:
        get_settings.cache_clear()
    from bot.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.session() as session:
        user = ds.authenticate(session, "awa", "premier administrateur")
        assert user is not None and user.role == "admin" and user.organisation_id == "femima"
        assert user.password_hash.startswith("$argon2id$")
    db.dispose()
