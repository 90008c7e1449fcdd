"""The dashboard on PostgreSQL (production's database): list, search, paging, request page,
reply, status, notes, exports, overview, call-back queue, and the permission rule's SQL."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.store import dashboard as ds
from bot.store.models import FollowUpRequest, OutboxMessage
from bot.testing.requests_world import fresh_postgres
from tests.unit.dashboard.conftest import build_world
from tests.unit.dashboard.test_authorisation_matrix import TABLE

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world(tmp_path):
    previous = ds._hasher
    ds.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url, drop = fresh_postgres()
    world = build_world(tmp_path, database_url=url)
    try:
        yield world
    finally:
        world.close()
        drop()
        ds.use_password_hasher(previous)


def test_dashboard_on_postgres(pg_world):
    world = pg_world
    with world.db.session() as session:  # the SQL rule agrees with the table
        for (user, key), cell in TABLE.items():
            me = ds.principal_of(session, session.scalar(select(ds.User).where(
                ds.User.username == user)))
            listed = {r.reference_code for r in session.scalars(
                select(FollowUpRequest).where(ds.visible(me)))}
            assert (world.codes[key] in listed) == (cell != "-"), (user, key)
    client = world.login("femima-caseworker")
    code = world.codes["femima"]
    assert code in client.get("/dashboard/requests", params={
        "q": code.replace("-", " ").lower(), "country": "ML", "overdue": "",
        "from": "2020-01-01"}).text
    assert client.get(f"/dashboard/requests/{code}").status_code == 200
    csrf = world.csrf(client)
    assert client.post(f"/dashboard/requests/{code}/reply", data={
        "message": "Bonjour", "csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.post(f"/dashboard/requests/{code}/status", data={
        "status": "resolved", "csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.post(f"/dashboard/requests/{code}/note", data={
        "text": "note", "csrf_token": csrf}, follow_redirects=False).status_code == 303
    with world.db.session() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 2
    assert code in client.get("/dashboard/export.csv").text
    assert client.get("/dashboard/export.xlsx").status_code == 200
    overview = client.get("/dashboard/overview")
    assert overview.status_code == 200 and "<svg" in overview.text
    staff = world.login("femima-protection")
    assert staff.get("/dashboard/callbacks").status_code == 200
    assert staff.get("/dashboard/audit").status_code == 404
    assert world.login("femima-admin").get("/dashboard/audit").status_code == 200
