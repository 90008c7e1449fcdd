"""A small world for the dashboard: the real app in process (Starlette's TestClient), every
role of every organisation (the four partners and one committee), and an ordinary and a
protection request routed to each partner."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.store import dashboard as ds
from bot.store import requests as store
from bot.store.dashboard_models import ROLES
from bot.store.db import Database
from bot.store.identities import IdentityVault
from bot.testing.harness import make_settings

PASSWORD = "un-mot-de-passe-solide"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # protection and admin accounts
COMMITTEE = {"id": "comite_kenieba", "name": "Comité de veille de Kéniéba", "clusters": [4]}
ORGS = ("pact", "femima", "la_lumiere", "action_mines_guinee", "comite_kenieba")
# Requests of the world: key -> (country, cluster, category). Routing (content/partners.yml):
# ML -> femima, SN -> la_lumiere, GN -> action_mines_guinee, anything else -> pact.
# Lower case: an ordinary request; upper case: a protection request of the same partner.
REQUESTS = {
    "femima": ("ML", 4, "land_conflict"), "FEMIMA": ("ML", None, "protection"),
    "la_lumiere": ("SN", 7, "pollution"), "LA_LUMIERE": ("SN", None, "protection"),
    "amg": ("GN", 1, "accident"), "AMG": ("GN", None, "protection"),
    "pact": ("XX", None, "extortion"), "PACT": ("XX", None, "protection"),
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@dataclass
class World:
    app: object
    settings: object
    db: Database
    vault: IdentityVault
    codes: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, TestClient] = field(default_factory=dict)
    _csrf: dict[str, str] = field(default_factory=dict)
    _open: list[TestClient] = field(default_factory=list)

    def close(self) -> None:
        for client in self._open:
            client.__exit__(None, None, None)
        self.db.dispose()

    def client(self) -> TestClient:
        # Entered: one event loop for all its requests (much faster than one per request).
        client = TestClient(self.app, base_url="http://127.0.0.1")
        client.__enter__()
        self._open.append(client)
        return client

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        page = client.get("/dashboard/login")
        response = client.post("/dashboard/login", data={
            "username": username, "password": password, "csrf_token": csrf_of(page.text)},
            follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        if response.headers["location"] == "/dashboard/totp":  # protection and admin roles
            import pyotp

            page = client.get("/dashboard/totp")
            response = client.post("/dashboard/totp", data={
                "code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": csrf_of(page.text)},
                follow_redirects=False)
            assert response.status_code == 303, response.text[:300]
        assert response.headers["location"] == "/dashboard/requests"
        return client

    def as_user(self, username: str) -> TestClient:
        """A signed-in client, kept for the module."""
        if username not in self._clients:
            self._clients[username] = self.login(username)
        return self._clients[username]

    def csrf(self, client: TestClient) -> str:
        """The session's form token (the same on every page of a session)."""
        key = str(id(client))
        if key not in self._csrf:
            self._csrf[key] = csrf_of(client.get("/dashboard/requests").text)
        return self._csrf[key]


@pytest.fixture(autouse=True, scope="session")
def _cheap_hashing():
    from argon2 import PasswordHasher

    ds.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def build_world(tmp_path: Path, **overrides) -> World:
    from bot.app import create_app

    settings = make_settings(tmp_path, "http://127.0.0.1:9",
                             **{"dashboard_cookie_secure": False, **overrides})
    db = Database(settings.database_url)
    db.upgrade()
    vault = IdentityVault(settings.data_key)
    data = store.load_reference_data()
    data = store.ReferenceData(data.partners, data.routing, data.targets, (COMMITTEE,))
    codes = {}
    with store.use_database(db), db.session() as session:
        ds.sync_organisations(session, data)
        for org in ORGS:
            for role in ROLES:
                user = ds.create_user(session, username(org, role), PASSWORD, org, role)
                if ds.needs_totp(user):
                    user.totp_secret_encrypted = vault.encrypt(TOTP_SECRET)
        for key, (country, cluster, category) in REQUESTS.items():
            contact = vault.find_or_create_contact(session, "telegram", f"chat-{key}")
            request = store.create_request(
                session, contact_id=contact.id, category=category, channel="telegram",
                country=None if country == "XX" else country, cluster=cluster,
                language="fr", summary=f"=HYPERLINK(\"http://x\";\"{key}\")"
                if key == "femima" else f"résumé {key}")
            codes[key] = request.reference_code
    app = create_app(settings, run_workers=False)
    return World(app, settings, db, vault, codes)


def username(org: str, role: str) -> str:
    return f"{org.replace('_', '')}-{role}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("dashboard"))
    yield world
    world.close()


@pytest.fixture
def fresh_world(tmp_path):
    world = build_world(tmp_path)
    yield world
    world.close()
