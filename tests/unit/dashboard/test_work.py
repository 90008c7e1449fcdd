"""The work pages: list, search, paging, request page, replies and status changes through the
outbox, notes, assignment, attachments, exports, audit entries."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot.core.messages import Reply
from bot.store import dashboard as ds
from bot.store import requests as store
from bot.store.dashboard_models import AuditEntry
from bot.store.models import (
    ChannelIdentity,
    Contact,
    FollowUpRequest,
    InboxMessage,
    MediaFile,
    OutboxMessage,
)


def _request(world, key):
    with world.db.session() as session:
        request = session.scalar(select(FollowUpRequest).where(
            FollowUpRequest.reference_code == world.codes[key]))
        session.expunge(request)
        return request


def _audit(world) -> list[tuple[str, str | None, str | None]]:
    with world.db.session() as session:
        return [(a.action, a.username, a.request_code)
                for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_reply_is_queued_in_the_outbox_on_the_miners_channel(fresh_world):
    client = fresh_world.login("femima-caseworker")
    code = fresh_world.codes["femima"]
    response = client.post(f"/dashboard/requests/{code}/reply", data={
        "message": "Nous passons au site jeudi.", "csrf_token": fresh_world.csrf(client)},
        follow_redirects=False)
    assert response.status_code == 303
    request = _request(fresh_world, "femima")
    with fresh_world.db.session() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.contact_id == request.contact_id)).all()
        assert len(rows) == 1 and rows[0].channel == "telegram" and rows[0].status == "pending"
        text = Reply.from_json(rows[0].payload).text
        assert code in text and "Nous passons au site jeudi." in text
        rows[0].status = "delivered"
    page = client.get(f"/dashboard/requests/{code}").text
    assert "Nous passons au site jeudi." in page and "remis" in page
    assert ("reply", "femima-caseworker", code) in _audit(fresh_world)


def test_status_change_follows_the_workflow_and_tells_the_miner(fresh_world):
    client = fresh_world.login("lalumiere-caseworker")
    code, csrf = fresh_world.codes["la_lumiere"], None
    csrf = fresh_world.csrf(client)
    ok = client.post(f"/dashboard/requests/{code}/status", data={
        "status": "in_progress", "message": "Un agent vient demain.", "csrf_token": csrf},
        follow_redirects=False)
    assert ok.status_code == 303
    assert _request(fresh_world, "la_lumiere").status == "in_progress"
    # in_progress -> new is not in the workflow
    bad = client.post(f"/dashboard/requests/{code}/status", data={
        "status": "new", "csrf_token": csrf}, follow_redirects=False)
    assert bad.status_code == 409
    assert _request(fresh_world, "la_lumiere").status == "in_progress"
    with fresh_world.db.session() as session:
        events = store.history(session, session.get(FollowUpRequest,
                                                    _request(fresh_world, "la_lumiere").id))
        assert [(e.kind, e.to_status, e.actor) for e in events][-1] == (
            "status", "in_progress", "lalumiere-caseworker")
        payloads = [Reply.from_json(o.payload).text for o in session.scalars(select(
            OutboxMessage))]
    assert any("en cours" in p and "Un agent vient demain." in p for p in payloads)
    assert ("status", "lalumiere-caseworker", code) in _audit(fresh_world)


def test_protection_reply_shows_only_a_neutral_line_and_views_are_audited(fresh_world):
    client = fresh_world.login("femima-protection")
    code = fresh_world.codes["FEMIMA"]
    page = client.get(f"/dashboard/requests/{code}")
    assert page.status_code == 200 and "confidentiel" in page.text
    client.post(f"/dashboard/requests/{code}/reply", data={
        "message": "Nous vous appelons ce soir.", "csrf_token": fresh_world.csrf(client)})
    with fresh_world.db.session() as session:
        texts = [Reply.from_json(o.payload).text for o in session.scalars(select(OutboxMessage))]
    assert texts == ["Vous avez un nouveau message. Écrivez « suivi » pour le lire."]
    assert ("view_protection", "femima-protection", code) in _audit(fresh_world)


def test_whatsapp_window_closed_is_said_on_the_page(fresh_world):
    with fresh_world.db.session() as session:
        contact = fresh_world.vault.find_or_create_contact(session, "whatsapp", "+22370000000")
        contact.last_inbound_at = ds.utcnow() - timedelta(hours=30)
        request = store.create_request(session, contact_id=contact.id, category="accident",
                                       channel="whatsapp", country="ML", summary="puits")
        code = request.reference_code
    client = fresh_world.login("femima-caseworker")
    assert "plus de 24 heures" in client.get(f"/dashboard/requests/{code}").text
    with fresh_world.db.session() as session:
        session.get(Contact, contact.id).last_inbound_at = ds.utcnow()
    assert "plus de 24 heures" not in client.get(f"/dashboard/requests/{code}").text


def test_notes_and_assignment(fresh_world):
    client = fresh_world.login("femima-admin")
    code, csrf = fresh_world.codes["femima"], fresh_world.csrf(client)
    client.post(f"/dashboard/requests/{code}/note", data={
        "text": "Le chef de site est prévenu.", "csrf_token": csrf})
    with fresh_world.db.session() as session:
        colleague = session.scalar(select(ds.User).where(ds.User.username == "femima-caseworker"))
        viewer = session.scalar(select(ds.User).where(ds.User.username == "femima-viewer"))
        stranger = session.scalar(select(ds.User).where(ds.User.username == "pact-caseworker"))
    for bad in (viewer.id, stranger.id):
        assert client.post(f"/dashboard/requests/{code}/assign", data={
            "user_id": str(bad), "csrf_token": csrf}, follow_redirects=False).status_code == 400
    assert client.post(f"/dashboard/requests/{code}/assign", data={
        "user_id": str(colleague.id), "csrf_token": csrf},
        follow_redirects=False).status_code == 303
    page = client.get(f"/dashboard/requests/{code}").text
    assert "Le chef de site est prévenu." in page and "femima-caseworker" in page
    assert _request(fresh_world, "femima").status == "assigned"
    with fresh_world.db.session() as session:  # a note is never sent to the miner
        assert session.scalars(select(OutboxMessage)).all() == []
    actions = [a for a, _, c in _audit(fresh_world) if c == code]
    assert "note" in actions and "assign" in actions


def test_search_by_code_as_people_type_it(world):
    client = world.as_user("pact-viewer")
    code = world.codes["la_lumiere"]
    body = code.split("-")[1]
    for typed in (code, code.lower(), code.replace("-", " ").lower(), code.replace("-", ""),
                  body.lower(), f" {code[:2].lower()}-{body[:3].lower()} "):
        text = client.get("/dashboard/requests", params={"q": typed}).text
        assert code in text, typed
        assert world.codes["femima"] not in text, typed


def test_filters(world):
    client = world.as_user("pact-viewer")
    text = client.get("/dashboard/requests", params={"country": "SN"}).text
    assert world.codes["la_lumiere"] in text and world.codes["femima"] not in text
    text = client.get("/dashboard/requests", params={"cluster": "4"}).text
    assert world.codes["femima"] in text and world.codes["amg"] not in text
    text = client.get("/dashboard/requests", params={"category": "accident"}).text
    assert world.codes["amg"] in text and world.codes["pact"] not in text
    assert world.codes["amg"] not in client.get("/dashboard/requests",
                                                params={"overdue": "1"}).text
    today = ds.utcnow().strftime("%Y-%m-%d")
    assert world.codes["amg"] in client.get("/dashboard/requests",
                                            params={"from": today, "to": today}).text
    assert world.codes["amg"] not in client.get("/dashboard/requests",
                                                params={"to": "2020-01-01"}).text
    # Nonsense in the filters is ignored, never an error.
    assert client.get("/dashboard/requests", params={
        "status": "<script>", "cluster": "x", "from": "demain", "after": "zz"}).status_code == 200


def test_keyset_paging_by_due_date_and_page_weight(fresh_world):
    with fresh_world.db.session() as session:
        for n in range(120):
            request = store.create_request(session, contact_id=None, category="pollution",
                                           channel="web", country="ML",
                                           summary="x" * 400, locality="Kéniéba")
            request.due_at = ds.utcnow() + timedelta(hours=n % 37, minutes=n)
        undated = store.create_request(session, contact_id=None, category="other",
                                       channel="web", country="ML")
        undated.due_at = None
        undated_code = undated.reference_code
    client = fresh_world.login("femima-viewer")
    seen, url, weights = [], "/dashboard/requests", []
    while url:
        page = client.get(url)
        weights.append(len(page.content))
        seen += [line.split('">')[1].split("<")[0] for line in page.text.splitlines()
                 if line.startswith('<td><a href="/dashboard/requests/')]
        marker = 'rel="next"'
        url = None
        if marker in page.text:
            url = page.text.split(marker)[0].rsplit('href="', 1)[1].split('"')[0]
            url = url.replace("&amp;", "&")
    with fresh_world.db.session() as session:
        expected = [r.reference_code for r in session.scalars(
            select(FollowUpRequest).where(FollowUpRequest.partner_id == "femima",
                                          FollowUpRequest.sensitive.is_(False))
            .order_by(FollowUpRequest.due_at.is_(None), FollowUpRequest.due_at,
                      FollowUpRequest.id))]
    assert seen == expected and len(seen) == 122 and seen[-1] == undated_code
    assert len(weights) == 3 and max(weights) < 100_000


def test_exports_are_text_without_personal_identifiers(world):
    client = world.as_user("femima-protection")
    csv_text = client.get("/dashboard/export.csv").text
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert rows[0][0] == "reference"
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    ordinary, protection = by_code[world.codes["femima"]], by_code[world.codes["FEMIMA"]]
    assert ordinary["description"].startswith("'=HYPERLINK")  # never a formula
    assert ordinary["category"] == "land_conflict"
    assert {k for k, v in protection.items() if v} <= ds.PROTECTION_COLUMNS
    assert protection["status"] and protection["created_at"]
    with world.db.session() as session:
        secrets_ = [c.id for c in session.scalars(select(Contact))] + \
                   [i.address_encrypted for i in session.scalars(select(ChannelIdentity))]
    for secret in [*secrets_, "chat-femima", "chat-FEMIMA"]:
        assert secret not in csv_text

    xlsx = client.get("/dashboard/export.xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "reference"
    formula = next(row for row in values if row[0] == world.codes["femima"])
    description = formula[list(ds.EXPORT_COLUMNS).index("description")]
    assert description.startswith("=HYPERLINK")
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == description)
    assert cell.data_type == "s"
    assert ("export", "femima-protection", None) in _audit(world)


def test_ordinary_users_never_export_protection_requests(world):
    text = world.as_user("femima-admin").get("/dashboard/export.csv").text
    assert world.codes["femima"] in text and world.codes["FEMIMA"] not in text


def test_attachments_are_served_in_scope_with_a_safe_type(fresh_world):
    media_dir = fresh_world.settings.media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir / "v1.ogg").write_bytes(b"OggS" + b"\0" * 100)
    (media_dir / "x.html").write_bytes(b"<script>alert(1)</script>")
    with fresh_world.db.session() as session:
        contact = fresh_world.vault.find_or_create_contact(session, "telegram", "chat-media")
        ids = []
        for name, mime in (("v1.ogg", "audio/ogg"), ("x.html", "text/html")):
            inbox = InboxMessage(channel="telegram", channel_message_id=name,
                                 contact_id=contact.id, kind="voice", status="done")
            session.add(inbox)
            session.flush()
            session.add(MediaFile(inbox_id=inbox.id, contact_id=contact.id, channel="telegram",
                                  kind="voice" if name.endswith("ogg") else "document",
                                  ref=name, mime_type=mime, status="stored", path=name))
            ids.append(inbox.id)
        request = store.create_request(session, contact_id=contact.id, category="pollution",
                                       channel="telegram", country="ML", attachments=ids)
        code = request.reference_code
        voice, page_file = [m.id for m in session.scalars(select(MediaFile)
                                                           .order_by(MediaFile.id))]
    client = fresh_world.login("femima-viewer")
    page = client.get(f"/dashboard/requests/{code}").text
    assert f'<audio controls preload="none" src="/dashboard/requests/{code}/media/{voice}">' \
        in page
    audio = client.get(f"/dashboard/requests/{code}/media/{voice}")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
    assert audio.headers["x-content-type-options"] == "nosniff"
    html = client.get(f"/dashboard/requests/{code}/media/{page_file}")
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"].startswith("attachment")
    # Out of scope, or a media id of another request: 404.
    assert fresh_world.login("lalumiere-admin").get(
        f"/dashboard/requests/{code}/media/{voice}").status_code == 404
    other = fresh_world.codes["femima"]
    assert client.get(f"/dashboard/requests/{other}/media/{voice}").status_code == 404


def test_login_audit(fresh_world):
    fresh_world.login("femima-viewer")
    client = fresh_world.client()
    page = client.get("/dashboard/login")
    from tests.unit.dashboard.conftest import csrf_of

    client.post("/dashboard/login", data={"username": "femima-viewer", "password": "nope",
                                          "csrf_token": csrf_of(page.text)})
    entries = _audit(fresh_world)
    assert ("login", "femima-viewer", None) in entries
    assert ("login_failed", "femima-viewer", None) in entries


def test_admin_invites_and_deactivates_users_of_their_organisation(fresh_world):
    admin = fresh_world.login("femima-admin")
    csrf = fresh_world.csrf(admin)
    assert admin.post("/dashboard/users", data={
        "action": "create", "username": "nouvelle", "password": "mot de passe provisoire",
        "role": "caseworker", "csrf_token": csrf}, follow_redirects=False).status_code == 303
    fresh_world.login("nouvelle", "mot de passe provisoire")
    with fresh_world.db.session() as session:
        new = session.scalar(select(ds.User).where(ds.User.username == "nouvelle"))
        foreign = session.scalar(select(ds.User).where(ds.User.username == "pact-viewer"))
        assert new.organisation_id == "femima"
    assert admin.post("/dashboard/users", data={
        "action": "deactivate", "user_id": str(foreign.id), "csrf_token": csrf},
        follow_redirects=False).status_code == 404
    admin.post("/dashboard/users", data={"action": "deactivate", "user_id": str(new.id),
                                         "csrf_token": csrf})
    from tests.unit.dashboard.test_access import _attempt

    assert _attempt(fresh_world.client(), "nouvelle", "mot de passe provisoire").status_code == 401
    assert fresh_world.login("femima-caseworker").get("/dashboard/users").status_code == 404
    assert "user_created" in [a for a, _, _ in _audit(fresh_world)]


def test_overview_counts_only_what_the_user_sees(fresh_world):
    client = fresh_world.login("femima-caseworker")
    csrf = fresh_world.csrf(client)
    client.post(f"/dashboard/requests/{fresh_world.codes['femima']}/status",
                data={"status": "resolved", "message": "Réglé.", "csrf_token": csrf})
    page = client.get("/dashboard/overview")
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text
    with fresh_world.db.session() as session:
        me = ds.principal_of(session, session.scalar(select(ds.User).where(
            ds.User.username == "femima-caseworker")))
        data = ds.overview(session, me, ds.Filters())
        assert data.total == 1 and dict(data.by_status) == {"resolved": 1}
        # Answered and resolved within the test's few seconds of its creation.
        assert 0 <= data.median_first_reply_hours < 0.1
        assert 0 <= data.median_resolution_hours < 0.1
        pact = ds.principal_of(session, session.scalar(select(ds.User).where(
            ds.User.username == "pact-viewer")))
        assert ds.overview(session, pact, ds.Filters()).total == 4  # never protection ones
        staff = ds.principal_of(session, session.scalar(select(ds.User).where(
            ds.User.username == "femima-protection")))
        assert ds.overview(session, staff, ds.Filters()).total == 2


def test_saved_replies_per_language_fill_the_reply_box(fresh_world):
    admin = fresh_world.login("femima-admin")
    csrf = fresh_world.csrf(admin)
    for language, title, text in (("fr", "Reçu", "Nous avons reçu votre demande."),
                                  ("bm", "Sɔrɔ", "An ye i ka ɲinini sɔrɔ."),
                                  ("wo", "Jot", "Jot nanu sa laaj.")):
        assert admin.post("/dashboard/replies", data={
            "language": language, "title": title, "text": text, "csrf_token": csrf},
            follow_redirects=False).status_code == 303
    assert fresh_world.login("femima-caseworker").get("/dashboard/replies").status_code == 404
    with fresh_world.db.session() as session:
        contact = fresh_world.vault.find_or_create_contact(session, "telegram", "chat-bm")
        code = store.create_request(session, contact_id=contact.id, category="accident",
                                    channel="telegram", country="ML",
                                    language="bm").reference_code
        rows = {r.title: r.id for r in session.scalars(select(ds.SavedReply))}
    worker = fresh_world.login("femima-caseworker")
    page = worker.get(f"/dashboard/requests/{code}").text
    assert "Sɔrɔ (bm)" in page and "Reçu (fr)" in page and "Jot" not in page
    filled = worker.get(f"/dashboard/requests/{code}", params={"saved": rows["Sɔrɔ"]}).text
    assert "An ye i ka ɲinini sɔrɔ.</textarea>" in filled
    # Another organisation's saved reply is never offered or filled in.
    other = fresh_world.login("lalumiere-caseworker")
    assert "Sɔrɔ" not in other.get(f"/dashboard/requests/{fresh_world.codes['la_lumiere']}",
                                   params={"saved": rows["Sɔrɔ"]}).text
