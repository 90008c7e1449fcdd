"""Killing the app in the middle of traffic loses nothing and answers nothing twice.

Twenty users greet the assistant at once; the app is killed (SIGKILL, as a crash) while their
messages are in flight, then restarted. Clients retry what failed with the same message_id,
as the web page does. Every message ends up answered exactly once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import httpx

USERS = 20


def post(url: str, body: dict) -> dict | None:
    try:
        response = httpx.post(f"{url}/api/chat", json=body, timeout=30)
        return response.json() if response.status_code == 200 else None
    except httpx.HTTPError:
        return None  # the app died under this request: the client will retry


def test_killing_the_app_mid_traffic_loses_and_duplicates_nothing(stack):
    run = uuid.uuid4().hex[:6]
    bodies = [{"sender": f"crash-{run}-{n}", "text": "Bonjour", "message_id": f"crash-{run}-{n}"}
              for n in range(USERS)]
    results: dict[int, dict | None] = {}

    def send(n: int) -> None:
        results[n] = post(stack.app_url, bodies[n])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(USERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    stack.kill_one("app")
    for thread in threads:
        thread.join()
    interrupted = [n for n in range(USERS) if results.get(n) is None]
    assert interrupted, "the app answered everyone before it was killed: kill earlier"
    stack.start_app()
    stack.wait_app(60)

    replies: dict[int, list[dict]] = {n: list((results.get(n) or {}).get("replies", []))
                                      for n in range(USERS)}
    for n in range(USERS):
        if results.get(n) is None:  # the client retries with the same message id
            retried = None
            for _ in range(10):
                retried = post(stack.app_url, bodies[n])
                if retried is not None:
                    break
                time.sleep(1)
            assert retried is not None, f"user {n}: the restarted app did not answer"
            replies[n].extend(retried["replies"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
            any(r["choices"] for r in replies[n]) for n in range(USERS)):
        for n in range(USERS):
            data = httpx.get(f"{stack.app_url}/api/chat/updates",
                             params={"sender": bodies[n]["sender"]}, timeout=10).json()
            replies[n].extend(data["replies"])
        time.sleep(0.5)

    for n in range(USERS):
        menus = [r for r in replies[n] if r["choices"]]
        assert len(menus) == 1, f"user {n} got {len(menus)} menus: {replies[n]}"

    database = sqlite3.connect(stack.workdir / "assistant.db")
    rows = database.execute(
        "SELECT i.status, (SELECT count(*) FROM outbox o WHERE o.inbox_id = i.id) "
        "FROM inbox i WHERE i.channel = 'web' AND i.channel_message_id LIKE ?",
        (f"crash-{run}-%",)).fetchall()
    assert len(rows) == USERS  # each message stored once, retries deduplicated
    assert all(status == "done" for status, _ in rows)
    assert all(count == 1 for _, count in rows), rows
