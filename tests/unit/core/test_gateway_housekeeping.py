"""Housekeeping (bot/core/delivery/housekeeping.py), a task of its own beside the workers:
leases of dead workers of this host are freed when it starts, then notifications, erasures
and retention run in rounds until the app stops."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from datetime import timedelta

from bot.core.delivery.housekeeping import reclaim_dead_leases
from bot.core.messages import Channel, Inbound, InboundKind
from bot.store.models import Contact, OutboxMessage, utcnow


def dead_owner() -> str:
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer exists
    return f"{os.uname().nodename}:{dead.pid}:abc"


async def test_leases_of_a_crashed_worker_on_this_host_are_freed(world):
    accepted = world.gateway.accept(world.text("m1", "bonjour"))
    owner = dead_owner()
    with world.db.session() as session:
        contact = session.get(Contact, accepted.contact_id)
        contact.lease_owner, contact.lease_until = owner, utcnow() + timedelta(minutes=5)
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="telegram",
                                  payload={"text": "x"}, lease_owner=owner,
                                  next_attempt_at=utcnow() + timedelta(minutes=2)))
        # A live process's lease (this one's) and another host's are left alone.
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="telegram",
                                  payload={"text": "y"}, lease_owner=world.gateway.worker_id))
        session.add(OutboxMessage(contact_id=accepted.contact_id, channel="telegram",
                                  payload={"text": "z"}, lease_owner="elsewhere:1:abc"))
    assert reclaim_dead_leases(world.db) == 2
    assert await world.run_until_settled(accepted.inbox_id)
    assert world.rasa.received[-1]["message"] == "bonjour"
    with world.db.session() as session:
        owners = {row.payload["text"]: row.lease_owner for row in session.query(OutboxMessage)
                  if row.payload["text"] in "xyz"}
    assert owners == {"x": None, "y": world.gateway.worker_id, "z": "elsewhere:1:abc"}


async def test_the_housekeeping_task_frees_leases_then_runs_rounds_until_stopped(world):
    accepted = world.gateway.accept(world.text("m1", "bonjour"))
    with world.db.session() as session:
        session.get(Contact, accepted.contact_id).lease_owner = dead_owner()
    housekeeping = world.gateway.housekeeping
    rounds = []

    async def round_():
        rounds.append(asyncio.get_running_loop().time())

    housekeeping.housekeep = round_
    stop = asyncio.Event()
    task = asyncio.create_task(housekeeping.run(stop, every=0.05))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 2)
    with world.db.session() as session:
        assert session.get(Contact, accepted.contact_id).lease_owner is None
    assert 3 <= len(rounds) <= 8


def test_the_app_runs_housekeeping_beside_its_workers(tmp_path):
    from starlette.testclient import TestClient

    from bot.app import create_app
    from bot.testing.harness import make_settings

    app = create_app(make_settings(tmp_path, "http://rasa.invalid"))
    gateway = app.state.gateway
    accepted = gateway.accept(Inbound(Channel.WEB, "m1", "web-1", InboundKind.TEXT, text="x"))
    with gateway.db.session() as session:
        contact = session.get(Contact, accepted.contact_id)
        contact.lease_owner, contact.lease_until = dead_owner(), utcnow() + timedelta(minutes=5)
    with TestClient(app):  # the lifespan: workers and housekeeping run
        for _ in range(100):
            with gateway.db.session() as session:
                if session.get(Contact, accepted.contact_id).lease_owner is None:
                    break
            time.sleep(0.02)
    with gateway.db.session() as session:
        assert session.get(Contact, accepted.contact_id).lease_owner is None
