"""A partner counts as having protection staff (so the bot offers a call-back) when it has an
active, real `protection` user of the dashboard, or `protection_notify`."""

from __future__ import annotations

from bot.store import dashboard as ds
from bot.store import requests as store


def test_an_active_protection_user_makes_a_call_back_available(db):
    with db.session() as session:
        ds.sync_organisations(session)
        assert not store.callback_available(session, "ML")
        ds.create_user(session, "demo-femima-protection", "demo", "femima", "protection",
                       demo=True, check_strength=False)
        ds.create_user(session, "awa-cw", "un mot de passe long", "femima", "caseworker")
        assert not store.callback_available(session, "ML")  # demo and caseworkers: no
        user = ds.create_user(session, "awa", "un mot de passe long", "femima", "protection")
        assert store.callback_available(session, "ML")
        assert not store.callback_available(session, "SN")  # La Lumière has nobody
        ds.set_active(session, user, False)
        assert not store.callback_available(session, "ML")


def test_call_back_queue_reveal_and_outcomes(fresh_world):
    from sqlalchemy import select

    from bot.store.models import FollowUpRequest
    from tests.unit.dashboard.conftest import csrf_of

    with fresh_world.db.session() as session:
        contact = fresh_world.vault.find_or_create_contact(session, "whatsapp", "+22370999999")
        request = store.create_request(
            session, contact_id=contact.id, category="protection", channel="whatsapp",
            country="ML", language="bm", callback_method="phone",
            callback_contact_encrypted=fresh_world.vault.encrypt("+223 70 11 11 11"),
            callback_time="evening")
        code = request.reference_code
    staff = fresh_world.login("femima-protection")
    queue = staff.get("/dashboard/callbacks").text
    assert code in queue and "le soir" in queue and "bambara" in queue
    assert "+223" not in queue and "+223" not in staff.get(f"/dashboard/requests/{code}").text
    csrf = csrf_of(queue)
    shown = staff.post(f"/dashboard/requests/{code}/callback", data={"csrf_token": csrf})
    assert shown.status_code == 200 and "+223 70 11 11 11" in shown.text
    assert staff.post(f"/dashboard/requests/{code}/callback-outcome", data={
        "outcome": "called", "csrf_token": csrf}, follow_redirects=False).status_code == 303
    with fresh_world.db.session() as session:
        row = session.scalar(select(FollowUpRequest).where(
            FollowUpRequest.reference_code == code))
        assert row.status == "in_progress"
        kinds = [(e.kind, e.message) for e in store.history(session, row)]
        actions = [a.action for a in session.scalars(select(ds.AuditEntry).where(
            ds.AuditEntry.request_code == code))]
    assert ("callback", "called") in kinds
    assert "reveal_callback" in actions and "callback_outcome" in actions
    # Nobody else: other roles have no queue; other partners' staff get 404.
    assert fresh_world.login("femima-caseworker").get("/dashboard/callbacks").status_code == 404
    other = fresh_world.login("lalumiere-protection")
    assert code not in other.get("/dashboard/callbacks").text
    assert other.post(f"/dashboard/requests/{code}/callback", data={
        "csrf_token": fresh_world.csrf(other)}).status_code == 404
    assert other.post(f"/dashboard/requests/{code}/callback-outcome", data={
        "outcome": "called", "csrf_token": fresh_world.csrf(other)}).status_code == 404


def test_demo_accounts_follow_demo_password_and_leave_real_accounts_alone(db):
    with db.session() as session:
        ds.sync_organisations(session)
        real = ds.create_user(session, "demo-pact-admin", "un vrai mot de passe", "pact",
                              "admin")
        assert ds.ensure_demo_users(session, "first") == 15
        assert ds.authenticate(session, "demo-femima-viewer", "first") is not None
        assert ds.ensure_demo_users(session, "second") == 0
        assert ds.authenticate(session, "demo-femima-viewer", "first") is None
        assert ds.authenticate(session, "demo-femima-viewer", "second") is not None
        assert ds.authenticate(session, "demo-pact-admin", "second") is None
        assert ds.authenticate(session, "demo-pact-admin", "un vrai mot de passe").id == real.id
