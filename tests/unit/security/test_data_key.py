"""Issue 14, door 2: the encryption key is kept, shared, private, and can be rotated.

- a local run's key file is private from the moment it exists (never written then chmod'ed);
- processes started together (the app and the action server of `make run`) get one key;
- a deployment (PostgreSQL) refuses to start without DATA_ENCRYPTION_KEY instead of making
  up a key that a rebuild would lose;
- DATA_ENCRYPTION_KEY may list several keys (new first): everything stored under the old key
  stays readable and findable, and `python -m bot.store rotate-key` re-encrypts every identity
  and call-back number under the new one.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from bot import config
from bot.store import requests as store
from bot.store.identities import IdentityVault
from bot.store.models import ChannelIdentity, Contact, FollowUpRequest

ROOT = Path(__file__).resolve().parents[3]


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_the_local_key_file_is_private_from_its_creation(tmp_path, monkeypatch):
    # No chmod after the fact: with a permissive umask and chmod doing nothing, the file must
    # still be created 0600 (os.open with the mode), so no other user could ever read it.
    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    old = os.umask(0)
    try:
        value = config.local_secret(tmp_path / "data.key", Fernet.generate_key)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "data.key").stat().st_mode)
    assert mode == 0o600, oct(mode)
    Fernet(value)  # a usable key
    assert not [p for p in tmp_path.iterdir() if p.name != "data.key"]  # no temporary left


def _slow_key() -> bytes:
    time.sleep(0.2)  # a slow disk or a busy machine: the window a race needs
    return Fernet.generate_key()


def _load_key(var_dir: str, barrier, queue) -> None:
    barrier.wait()
    queue.put(config.local_secret(Path(var_dir) / "data.key", _slow_key))


def test_processes_started_together_share_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(3):
        var_dir = tmp_path / f"round{round_}"
        var_dir.mkdir()
        barrier, queue = ctx.Barrier(6), ctx.Queue()
        processes = [ctx.Process(target=_load_key, args=(str(var_dir), barrier, queue))
                     for _ in range(6)]
        for process in processes:
            process.start()
        keys = [queue.get(timeout=20) for _ in processes]
        for process in processes:
            process.join(10)
        assert len(set(keys)) == 1, f"round {round_}: {len(set(keys))} different keys"
        assert (var_dir / "data.key").read_text().strip() == keys[0]


def test_a_deployment_refuses_to_start_without_the_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATA_ENCRYPTION_KEY"}
    env.update(VAR_DIR=str(tmp_path), DATABASE_URL="postgresql://u:p@db.invalid/assistant")
    result = subprocess.run([sys.executable, "-c", "from bot.config import load_settings; "
                             "load_settings()"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "DATA_ENCRYPTION_KEY" in result.stderr
    assert not (tmp_path / "data.key").exists()


def test_old_keys_still_read_and_find_and_rotation_reencrypts_everything(db):
    old, new = _key(), _key()
    before = IdentityVault(old)
    with db.session() as session:
        contact = before.find_or_create_contact(session, "whatsapp", "+22376000001")
        contact.callback_draft = before.encrypt("76112233")
        request = store.create_request(session, contact_id=contact.id, category="accident",
                                       channel="whatsapp", country="ML",
                                       callback_method="phone",
                                       callback_contact_encrypted=before.encrypt("76445566"))
        contact_id, request_id = contact.id, request.id

    rotating = IdentityVault(f"{new},{old}")
    with db.session() as session:  # during the rotation: the old rows are found and read
        assert rotating.find_contact_id(session, "whatsapp", "+22376000001") == contact_id
        assert rotating.address_of(session, contact_id, "whatsapp") == "+22376000001"

    result = subprocess.run(
        [sys.executable, "-m", "bot.store", "rotate-key"], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": db.url, "DATA_ENCRYPTION_KEY": f"{new},{old}"})
    assert result.returncode == 0, result.stderr
    assert "3 values re-encrypted" in result.stdout + result.stderr

    only_new = IdentityVault(new)
    with db.session() as session:
        assert only_new.find_contact_id(session, "whatsapp", "+22376000001") == contact_id
        assert only_new.address_of(session, contact_id, "whatsapp") == "+22376000001"
        assert only_new.decrypt(session.get(Contact, contact_id).callback_draft) == "76112233"
        request = session.get(FollowUpRequest, request_id)
        assert only_new.decrypt(request.callback_contact_encrypted) == "76445566"
        identity = session.scalar(select(ChannelIdentity))
        with pytest.raises(InvalidToken):
            IdentityVault(old).decrypt(identity.address_encrypted)
