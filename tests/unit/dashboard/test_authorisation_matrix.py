"""Who sees and does what: every role of every organisation x every request (an ordinary and a
protection request routed to each partner) x every route, as ONE table.

A cell: `-` out of scope (404 on every route, absent from the list and the exports),
`r` read only (page 200, every POST 403), `n` read and internal notes (reply/status 403),
`w` read, note, reply and change the status (303 after each POST).
"""

from __future__ import annotations

import pytest

from bot.store import dashboard as ds
from bot.store.models import FollowUpRequest
from tests.unit.dashboard.conftest import REQUESTS

MATRIX = """
user                           femima FEMIMA la_lumiere LA_LUMIERE amg AMG pact PACT
pact-viewer                    r      -      r          -          r   -   r    -
pact-caseworker                n      -      n          -          n   -   w    -
pact-protection                n      -      n          -          n   -   w    w
pact-admin                     n      -      n          -          n   -   w    -
femima-viewer                  r      -      -          -          -   -   -    -
femima-caseworker              w      -      -          -          -   -   -    -
femima-protection              w      w      -          -          -   -   -    -
femima-admin                   w      -      -          -          -   -   -    -
lalumiere-viewer               -      -      r          -          -   -   -    -
lalumiere-caseworker           -      -      w          -          -   -   -    -
lalumiere-protection           -      -      w          w          -   -   -    -
lalumiere-admin                -      -      w          -          -   -   -    -
actionminesguinee-viewer       -      -      -          -          r   -   -    -
actionminesguinee-caseworker   -      -      -          -          w   -   -    -
actionminesguinee-protection   -      -      -          -          w   w   -    -
actionminesguinee-admin        -      -      -          -          w   -   -    -
comitekenieba-viewer           r      -      -          -          -   -   -    -
comitekenieba-caseworker       n      -      -          -          -   -   -    -
comitekenieba-protection       n      -      -          -          -   -   -    -
comitekenieba-admin            n      -      -          -          -   -   -    -
"""


def _table() -> dict[tuple[str, str], str]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    return {(row[0], key): cell for row in rows for key, cell in zip(header, row[1:], strict=True)}


TABLE = _table()
ROUTES = ("page", "list", "csv", "reply", "status", "note")
EXPECTED = {
    "-": {"page": 404, "list": False, "csv": False, "reply": 404, "status": 404, "note": 404},
    "r": {"page": 200, "list": True, "csv": True, "reply": 403, "status": 403, "note": 403},
    "n": {"page": 200, "list": True, "csv": True, "reply": 403, "status": 403, "note": 303},
    "w": {"page": 200, "list": True, "csv": True, "reply": 303, "status": 303, "note": 303},
}
_exports: dict[str, str] = {}
CELLS = [(user, key, route) for (user, key) in TABLE for route in ROUTES]


def test_the_table_covers_every_user_and_request():
    users = {user for user, _ in TABLE}
    assert len(users) == 5 * 4
    assert {key for _, key in TABLE} == {k if k != "amg" and k != "AMG" else k
                                          for k in REQUESTS}


@pytest.mark.parametrize(("user", "key", "route"), CELLS,
                         ids=[f"{u}-{k}-{r}" for u, k, r in CELLS])
def test_matrix(world, user, key, route):
    client = world.as_user(user)
    code = world.codes[key]
    expected = EXPECTED[TABLE[(user, key)]][route]
    if route == "page":
        response = client.get(f"/dashboard/requests/{code}")
        assert response.status_code == expected
        if expected == 404:
            assert code not in response.text
    elif route == "list":
        # The code typed loosely, as people type it ("ml 7kq4xr").
        loose = code.replace("-", " ").lower()
        response = client.get("/dashboard/requests", params={"q": loose})
        assert response.status_code == 200
        assert (code in response.text) is expected
    elif route == "csv":
        if user not in _exports:  # one export per user: it does not change with writes
            response = client.get("/dashboard/export.csv")
            assert response.status_code == 200
            _exports[user] = response.text
        assert (code in _exports[user]) is expected
    else:
        csrf = world.csrf(client)
        with world.db.session() as session:
            status = session.query(FollowUpRequest).filter_by(reference_code=code).one().status
        data = {"reply": {"message": "Nous vous appelons demain."},
                # The same status with a message: a message-only update, valid from any status.
                "status": {"status": status, "message": "Nous avons reçu votre demande."},
                "note": {"text": "Appeler le chef de site."}}[route]
        response = client.post(f"/dashboard/requests/{code}/{route}",
                               data={**data, "csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == expected
        if expected == 404:
            assert code not in response.text


def test_can_and_the_list_query_agree_on_every_request(world):
    """`can(user, "view", r)` and the SQL condition `visible(user)` give the same answer."""
    with world.db.session() as session:
        requests = session.query(FollowUpRequest).all()
        for (user, key), cell in TABLE.items():
            account = session.query(ds.User).filter_by(username=user).one()
            me = ds.principal_of(session, account)
            listed = {r.reference_code for r in session.query(FollowUpRequest)
                      .filter(ds.visible(me)).all()}
            for request in requests:
                assert ds.can(me, "view", request) == (request.reference_code in listed)
            assert (world.codes[key] in listed) == (cell != "-"), (user, key)
