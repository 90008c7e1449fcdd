"""bot/store/misses.py: the learning loop keeps misunderstood messages, masked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, select

from bot.store import misses
from bot.store.models import Contact, UnderstandingMiss, utcnow


def _contact(session) -> str:
    contact = Contact()
    session.add(contact)
    session.flush()
    return contact.id


def _miss(session, contact_id, text="ou vendre mon or", suggested=("sell_gold", "gold_price")):
    return misses.record_miss(session, contact_id=contact_id, text=text, channel="web",
                              language="fr", country="ML", intent="nlu_fallback",
                              confidence=0.31, suggested=list(suggested))


def test_mask_hides_phone_numbers_and_long_digit_runs():
    assert misses.mask("Appelez le +223 76 12 34 56 demain") == "appelez le <tel> demain"
    assert misses.mask("carte 1234567 perdue") == "carte <num> perdue"
    assert misses.mask("15 grammes à 45000") == "15 grammes a 45000"
    assert misses.mask("orpailleur " * 100) == ("orpailleur " * 100)[:misses.TEXT_LIMIT]


def test_a_miss_is_kept_masked_with_its_suggestions(db):
    with db.session() as session:
        contact_id = _contact(session)
        miss_id = _miss(session, contact_id, text="mon numéro 76123456, où vendre ?")
        row = session.get_one(UnderstandingMiss, miss_id)
        assert (row.text, row.suggested, row.intent, row.confidence, row.chosen) == (
            "mon numero <tel>, ou vendre ?", ["sell_gold", "gold_price"], "nlu_fallback", 0.31,
            None)


def test_nothing_is_kept_for_an_empty_message(db):
    with db.session() as session:
        assert _miss(session, _contact(session), text="   ") is None
        assert session.scalars(select(UnderstandingMiss)).all() == []


def test_the_choice_is_noted_once_on_the_latest_miss_that_suggested_it(db):
    with db.session() as session:
        contact_id = _contact(session)
        older = _miss(session, contact_id)
        latest = _miss(session, contact_id, suggested=["sell_gold"])
        assert misses.record_choice(session, contact_id, "gold_price") is False  # not offered
        assert misses.record_choice(session, contact_id, "sell_gold") is True
        assert misses.record_choice(session, contact_id, "sell_gold") is False  # only once
        assert session.get_one(UnderstandingMiss, latest).chosen == "sell_gold"
        assert session.get_one(UnderstandingMiss, older).chosen is None


def test_a_choice_after_the_window_is_not_noted(db):
    with db.session() as session:
        contact_id = _contact(session)
        row = session.get_one(UnderstandingMiss, _miss(session, contact_id))
        row.created_at = utcnow() - misses.CHOICE_WINDOW - timedelta(minutes=1)
        session.flush()
        assert misses.record_choice(session, contact_id, "sell_gold") is False
        assert misses.record_choice(session, "c_nobody", "sell_gold") is False


def test_the_migration_of_the_misses_downgrades(db):
    db.downgrade("0005_outbox_lease")
    assert "understanding_misses" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "understanding_misses" in inspect(db.engine).get_table_names()
