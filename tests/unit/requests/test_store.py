"""Reference codes, routing, the status workflow and consent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.store import requests as store
from bot.store.models import Consent, FollowUpRequest, RequestEvent


# ---------------------------------------------------------------- reference codes
def test_a_code_is_the_country_and_six_unambiguous_characters():
    for _ in range(500):
        code = store.new_reference_code("ML")
        assert re.fullmatch(r"ML-[2-9A-HJKMNP-Z]{6}", code), code
        assert not set(code[3:]) & set("01OIL")


def test_an_unknown_country_gets_a_neutral_prefix():
    assert store.new_reference_code(None).startswith("XX-")


@pytest.mark.parametrize("typed", ["ML-7KQ4XR", "ml-7kq4xr", "ML 7KQ4XR", "ml7kq4xr",
                                   " Ml-7kq 4xr "])
def test_a_typed_code_is_normalized(typed):
    assert store.normalize_reference_code(typed) == "ML-7KQ4XR"


@pytest.mark.parametrize("typed", ["", "bonjour", "ML-7KQ4X", "ML-7KQ0XR", "MLL-7KQ4XR", None])
def test_what_is_not_a_code_is_refused(typed):
    assert store.normalize_reference_code(typed) is None


def test_codes_stay_unique_when_the_random_draw_collides(db, contact, monkeypatch):
    draws = iter(["ML-AAAAAA", "ML-AAAAAA", "ML-BBBBBB"])
    monkeypatch.setattr(store, "new_reference_code", lambda country: next(draws))
    with db.session() as session:
        first = store.create_request(session, contact_id=contact, category="other",
                                     channel="web", country="ML")
        second = store.create_request(session, contact_id=contact, category="other",
                                      channel="web", country="ML")
    assert (first.reference_code, second.reference_code) == ("ML-AAAAAA", "ML-BBBBBB")


# ------------------------------------------------------------------------ routing
@pytest.mark.parametrize("country,category,partner", [
    ("ML", "pollution", "femima"),
    ("SN", "land_conflict", "la_lumiere"),
    ("GN", "accident", "action_mines_guinee"),
    (None, "other", "pact"),
    ("CI", "other", "pact"),
    ("ML", "protection", "femima"),  # the national partner's protection staff
])
def test_default_routing(db, country, category, partner):
    with db.session() as session:
        store.ensure_reference_data(session)
        assert store.route(session, country, category).id == partner


def test_the_most_specific_rule_wins(db, tmp_path):
    data = store.ReferenceData(
        partners=[{"id": "pact", "name": "Pact"}, {"id": "femima", "name": "FEMIMA"}],
        routing=[{"partner": "pact"}, {"country": "ML", "partner": "femima"},
                 {"country": "ML", "category": "pollution", "partner": "pact"}],
        targets={})
    with db.session() as session:
        store.sync_reference_data(session, data)
        assert store.route(session, "ML", "pollution").id == "pact"
        assert store.route(session, "ML", "accident").id == "femima"
        assert store.route(session, "SN", "accident").id == "pact"


def test_partners_come_from_the_data_file(tmp_path):
    path = tmp_path / "partners.yml"
    path.write_text("partners:\n  - {id: x, name: X, notify: {kind: email, target: a@b.org}}\n"
                    "routing:\n  - {partner: y}\n")
    with pytest.raises(ValueError, match="unknown partner"):
        store.load_reference_data(path)


def test_the_due_date_follows_the_category_target(db, contact):
    with db.session() as session:
        request = store.create_request(session, contact_id=contact, category="accident",
                                       channel="web", country="GN")
        assert request.due_at - request.created_at == timedelta(hours=48)
        assert request.partner_id == "action_mines_guinee"
        events = store.history(session, request)
        assert [(e.kind, e.to_status) for e in events] == [("created", "new")]


# ------------------------------------------------------------------------ statuses
def test_the_workflow_moves_forward_and_can_reopen(db, contact):
    with db.session() as session:
        request = store.create_request(session, contact_id=contact, category="pollution",
                                       channel="web", country="ML")
        for status in ("assigned", "in_progress", "resolved", "closed", "in_progress"):
            store.change_status(session, request, status, actor="femima:awa")
        kinds = [(e.kind, e.from_status, e.to_status) for e in store.history(session, request)]
    assert kinds[-1] == ("reopened", "closed", "in_progress")
    assert kinds[1] == ("status", "new", "assigned")
    assert len(kinds) == 6


@pytest.mark.parametrize("start,target", [("new", "new"), ("closed", "resolved"),
                                          ("new", "archived"), ("resolved", "assigned")])
def test_forbidden_transitions_are_refused(db, contact, start, target):
    with db.session() as session:
        request = store.create_request(session, contact_id=contact, category="other",
                                       channel="web", country="SN")
        request.status = start
        with pytest.raises(store.InvalidTransition):
            store.change_status(session, request, target)
        assert request.status == start


# ------------------------------------------------------------------------- consent
def test_a_callback_records_a_consent_and_withdrawing_it_erases_the_number(db, contact, vault):
    with db.session() as session:
        request = store.create_request(
            session, contact_id=contact, category="land_conflict", channel="telegram",
            country="SN", callback_method="phone",
            callback_contact_encrypted=vault.encrypt("+221770000000"), callback_time="morning")
        assert request.callback_consent
        [consent] = store.active_consents(session, contact, "callback")
        assert consent.request_id == request.id
        assert store.withdraw_consent(session, contact, "callback") == 1
        assert store.active_consents(session, contact) == []
        assert request.callback_contact_encrypted is None and not request.callback_consent
        assert [e.kind for e in store.history(session, request)][-1] == "consent_withdrawn"


def test_no_consent_no_callback_contact(db, contact, vault):
    with db.session() as session:
        request = store.create_request(
            session, contact_id=contact, category="other", channel="web", country="ML",
            callback_method=None, callback_contact_encrypted=vault.encrypt("+22376000000"))
        assert request.callback_contact_encrypted is None
        assert session.scalars(select(Consent)).all() == []


def test_a_protection_request_keeps_only_the_consented_contact(db, contact, vault):
    with db.session() as session:
        request = store.create_request(
            session, contact_id=contact, category="protection", channel="whatsapp",
            country="GN", summary="what happened", locality="Siguiri", latitude=1.0,
            longitude=2.0, attachments=[1], callback_method="phone",
            callback_contact_encrypted=vault.encrypt("+224620000000"), callback_time="evening")
        assert request.sensitive
        assert (request.summary, request.locality, request.latitude, request.attachments) == (
            None, None, None, None)
        assert request.callback_contact_encrypted and request.callback_time == "evening"


def test_a_request_is_found_only_by_the_contact_who_made_it(db, contact, vault):
    from tests.unit.requests.conftest import make_contact

    other = make_contact(db, vault, "+22376999999")
    with db.session() as session:
        request = store.create_request(session, contact_id=contact, category="other",
                                       channel="web", country="ML")
        code = request.reference_code
    with db.session() as session:
        assert store.find_for_contact(session, code.lower(), contact).id == request.id
        assert store.find_for_contact(session, code, other) is None
        assert session.scalar(select(RequestEvent.kind)) == "created"
        assert session.get(FollowUpRequest, request.id).status == "new"
