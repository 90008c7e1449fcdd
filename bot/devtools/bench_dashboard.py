"""The dashboard at scale: seed N requests (100,000 by default) and time the list, filters,
search, a deep page and the exports, in process (the app's own server time, no network).

    .venv/bin/python -m bot.devtools.bench_dashboard                 # SQLite, 100,000
    .venv/bin/python -m bot.devtools.bench_dashboard --postgres      # and PostgreSQL
    (POSTGRES_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres)

Goals (issue 13): a list page under 150 ms of server time; exports streamed without loading
every row in memory (peak resident memory growth is reported).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import resource
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.facts import CHANNELS
from bot.store.models import FollowUpRequest, utcnow

PASSWORD = "bench password 123"
COUNTRIES = ("ML", "SN", "GN", None)
PARTNER = {"ML": "femima", "SN": "la_lumiere", "GN": "action_mines_guinee", None: "pact"}
CATEGORIES = ("land_conflict", "extortion", "accident", "pollution", "child_labour",
              "other", "talk_to_person")
STATUSES = ("new", "assigned", "in_progress", "resolved", "closed")


def seed(db, n: int, batch: int = 5000) -> list[str]:
    from bot.store import dashboard as ds

    rng = random.Random(13)
    now = utcnow()
    codes: list[str] = []
    from bot.store.requests import sync_reference_data

    with db.session() as session:
        sync_reference_data(session)
        ds.sync_organisations(session)
        for user, org, role in (("b-pact", "pact", "viewer"), ("b-femima", "femima", "caseworker")):
            ds.create_user(session, user, PASSWORD, org, role)
    done = 0
    while done < n:
        rows = []
        for i in range(done, min(n, done + batch)):
            country = rng.choice(COUNTRIES)
            protection = rng.random() < 0.05
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            rows.append({
                "reference_code": f"{country or 'XX'}-{_unique(i)}", "contact_id": None,
                "category": "protection" if protection else rng.choice(CATEGORIES),
                "country": country, "cluster": None if protection else rng.randint(1, 10),
                "locality": None if protection else "Kéniéba", "channel": rng.choice(
                    tuple(CHANNELS)), "language": rng.choice(("fr", "bm", "ff")),
                "summary": None if protection else "Le cyanure coule dans le marigot " * 3,
                "sensitive": protection, "status": rng.choice(STATUSES),
                "partner_id": PARTNER[country], "created_at": created, "updated_at": created,
                "due_at": created + timedelta(hours=rng.choice((24, 48, 72, 120, 168))),
                "notify_next_at": None, "callback_consent": False, "notify_attempts": 0})
            codes.append(rows[-1]["reference_code"])
        with db.session() as session:
            session.execute(insert(FollowUpRequest), rows)
        done += len(rows)
    return codes


def _unique(i: int) -> str:
    from bot.store.requests import CODE_ALPHABET

    digits, base = [], len(CODE_ALPHABET)
    for _ in range(6):
        i, r = divmod(i, base)
        digits.append(CODE_ALPHABET[r])
    return "".join(reversed(digits))


def _login(client, username: str) -> None:
    page = client.get("/dashboard/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/dashboard/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.status_code


def _time(client, url: str, runs: int = 7) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds (CPU: this process, the app and the in-process
    client; on a shared machine the wall time also counts other processes' turns)."""
    times, cpu, size = [], [], 0
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.content)
    return statistics.median(times), statistics.median(cpu), size


class _Lines(list):
    """Printed as they come (a long run shows its progress)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def run(database_url: str, n: int, label: str, exports: bool = True) -> list[str]:
    from starlette.testclient import TestClient

    from bot.app import create_app
    from bot.store.db import Database
    from bot.testing.harness import make_settings

    tmp = Path(tempfile.mkdtemp())
    settings = make_settings(tmp, "http://127.0.0.1:9", database_url=database_url,
                             dashboard_cookie_secure=False)
    db = Database(database_url)
    db.upgrade()
    start = time.perf_counter()
    codes = seed(db, n)
    seeded = time.perf_counter() - start
    lines = _Lines()
    lines.append(f"{label}: {n} requests seeded in {seeded:.1f} s")
    app = create_app(settings, run_workers=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        _login(client, "b-pact")
        first = client.get("/dashboard/requests").text
        # A deep page: follow 20 pages of keyset cursors.
        url, deep = "/dashboard/requests", 1
        for _ in range(20):
            page = client.get(url).text
            if 'rel="next"' not in page:
                break
            url = page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] \
                .replace("&amp;", "&")
            deep += 1
        probe = codes[n // 2]
        cases = [
            ("list, first page (Pact: every request)", "/dashboard/requests"),
            (f"list, page {deep} (keyset)", url),
            ("filter country=ML status=new", "/dashboard/requests?country=ML&status=new"),
            ("filter cluster=4 category=pollution overdue",
             "/dashboard/requests?cluster=4&category=pollution&overdue=1"),
            ("filter dates (one month)", "/dashboard/requests?from="
             + (utcnow() - timedelta(days=60)).strftime("%Y-%m-%d") + "&to="
             + (utcnow() - timedelta(days=30)).strftime("%Y-%m-%d")),
            ("search a code typed loosely", "/dashboard/requests?q="
             + probe.replace("-", " ").lower()),
            ("search 6 characters without country", "/dashboard/requests?q="
             + probe.split("-")[1].lower()),
            ("request page", "/dashboard/requests/" + re.search(
                r'href="/dashboard/requests/([A-Z]{2}-[A-Z0-9]{6})"', first).group(1)),
        ]
        for name, case_url in cases:
            median, cpu, size = _time(client, case_url)
            lines.append(f"  {name}: {median:.1f} ms wall, {cpu:.1f} ms CPU (medians of 7), "
                         f"{size / 1024:.1f} KB")
        for kind in ("csv", "xlsx") if exports else ():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start, start_cpu = time.perf_counter(), time.process_time()
            size = 0
            with client.stream("GET", f"/dashboard/export.{kind}") as response:
                for chunk in response.iter_bytes():
                    size += len(chunk)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            lines.append(f"  export.{kind} (Pact, about {int(n * 0.95)} rows): "
                         f"{elapsed:.1f} s wall, {cpu:.1f} s CPU, "
                         f"{size / 1e6:.1f} MB, peak memory +{growth / 1024:.0f} MB")
    db.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.devtools.bench_dashboard")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--no-exports", action="store_true", help="pages only")
    args = parser.parse_args()
    os.environ.setdefault("DATA_ENCRYPTION_KEY",
                          base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    tmp = Path(tempfile.mkdtemp())
    run(f"sqlite:///{tmp / 'bench.db'}", args.requests, "SQLite", not args.no_exports)
    if args.postgres:
        import psycopg

        admin = os.environ.get("POSTGRES_ADMIN_URL",
                               "postgresql://postgres@127.0.0.1:5432/postgres")
        name = "bench_dashboard_" + secrets.token_hex(4)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run(admin.rsplit("/", 1)[0] + "/" + name, args.requests, "PostgreSQL",
                not args.no_exports)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
