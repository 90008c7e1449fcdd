"""Issue 14, promise 9: an anonymised request keeps what statistics need and nothing else, and
the delete flow's sentence says exactly what is erased and what is kept."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import select

from bot.actions import flows as _flows  # noqa: F401  (registers the flows)
from bot.actions.dialogue import State, Talk
from bot.actions.flows.delete import DeleteFlow
from bot.core.notify import record_partner_update
from bot.core.privacy import KEPT_FOR_STATISTICS, anonymise_request
from bot.store import requests as store
from bot.store.identities import IdentityVault
from bot.store.models import FollowUpRequest, RequestEvent

# Columns that are bookkeeping, not about the miner.
BOOKKEEPING = {"id", "notify_attempts", "notify_next_at", "notify_error", "callback_consent"}


def test_an_anonymised_request_keeps_only_the_statistics(db):
    vault = IdentityVault(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    with db.session() as session:
        contact = vault.find_or_create_contact(session, "telegram", "7301234567")
        request = store.create_request(
            session, contact_id=contact.id, category="land_conflict", channel="telegram",
            country="GN", language="ff", cluster=2, locality="Derrière le marché de Kintinian",
            latitude=11.5, longitude=-9.4, summary="Mon voisin Sory a pris mon puits",
            attachments=[4, 5], callback_method="phone",
            callback_contact_encrypted=vault.encrypt("620000001"), callback_time="morning")
        record_partner_update(session, request, "in_progress", "Nous appelons Sory demain")
        anonymise_request(session, request)
        session.flush()
        events = session.scalars(select(RequestEvent)).all()
        assert all(event.message is None for event in events)
        for column in FollowUpRequest.__table__.columns:
            value = getattr(request, column.name)
            if column.name in KEPT_FOR_STATISTICS or column.name in BOOKKEEPING:
                continue
            assert value in (None, False), (column.name, value)
        assert (request.category, request.country, request.cluster, request.status) == (
            "land_conflict", "GN", 2, "in_progress")
        assert request.created_at and request.anonymised_at


def test_the_delete_flow_says_what_is_erased_and_what_is_kept():
    [reply] = DeleteFlow().start(Talk(State(language="fr"), sender_id=None), "start")
    text = reply.text.lower()
    for erased in ("messages", "vocaux", "photos", "numéro", "accords", "lieu", "position"):
        assert erased in text, erased
    for kept in ("type de problème", "pays", "zone", "application", "dates", "état"):
        assert kept in text, kept
    assert "rien qui permette de vous reconnaître" not in text
