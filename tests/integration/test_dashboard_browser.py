"""The dashboard in a real headless browser: Debian's chromium driven by Playwright, against
the real app on loopback (fake Rasa, python-telegram-bot against the fake Bot API).

Log in, search a code typed loosely, open the request, check that its voice note plays,
reply (the reply reaches the miner on Telegram), change the status, export. A screenshot of
each page is kept under var/screenshots/.
"""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram import TelegramChannel
from bot.config import ROOT
from bot.store import dashboard as ds
from bot.store import requests as store
from bot.store.models import InboxMessage, MediaFile
from bot.testing.harness import RunningApp, make_settings
from bot.testing.telegram_api import FakeTelegramAPI, text_update

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN, SECRET, CHAT = "123456:TEST-token", "webhook-secret-1", 7301234888
PASSWORD = "mot de passe du partenaire"
SHOTS = ROOT / "var" / "screenshots"


def _tone_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i
                                                                          / rate)))
                                 for i in range(int(seconds * rate))))
    return buffer.getvalue()


@pytest.fixture
def running(tmp_path, rasa, monkeypatch):
    # `make setup` installs both (scripts/setup.sh, requirements/dev.lock): a missing one is a
    # broken setup, which must fail, not hide the test behind a skip.
    if not CHROMIUM:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    telegram = FakeTelegramAPI(TOKEN).start()
    rasa.reset()
    monkeypatch.setattr(TelegramChannel, "SEND_TIMEOUT", 1.0)
    settings = make_settings(
        tmp_path, rasa.url, dashboard_cookie_secure=False, telegram_bot_token=TOKEN,
        telegram_api_base_url=f"{telegram.url}/bot",
        telegram_api_file_url=f"{telegram.url}/file/bot", telegram_webhook_secret=SECRET,
        telegram_webhook_url="https://bot.example.org/webhooks/telegram")
    try:
        with RunningApp(settings) as app:
            with app.db.session() as session:
                ds.sync_organisations(session)
                ds.create_user(session, "awa", PASSWORD, "femima", "caseworker")
            yield app, telegram
    finally:
        telegram.stop()


async def test_partner_works_a_request_in_a_real_browser(running):
    from playwright.async_api import async_playwright

    app, telegram = running
    async with httpx.AsyncClient() as client:  # the miner writes on Telegram
        await client.post(f"{app.url}/webhooks/telegram", json=text_update(CHAT, "Bonjour"),
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    [contact] = app.contacts()
    media_dir = Path(app.settings.media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir / "voice-1.wav").write_bytes(_tone_wav())
    with app.db.session() as session:
        inbox = InboxMessage(channel="telegram", channel_message_id="voice-1",
                             contact_id=contact.id, kind="voice", status="done")
        session.add(inbox)
        session.flush()
        session.add(MediaFile(inbox_id=inbox.id, contact_id=contact.id, channel="telegram",
                              kind="voice", ref="voice-1", mime_type="audio/wav",
                              status="stored", path="voice-1.wav", size=16044))
        code = store.create_request(session, contact_id=contact.id, category="pollution",
                                    channel="telegram", country="ML", language="fr",
                                    summary="Le cyanure coule dans le marigot",
                                    attachments=[inbox.id]).reference_code
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
        page = await browser.new_page(viewport={"width": 412, "height": 915})  # a phone
        await page.goto(f"{app.url}/dashboard/login")
        await page.screenshot(path=SHOTS / "1-login.png", full_page=True)
        await page.fill("input[name=username]", "awa")
        await page.fill("input[name=password]", PASSWORD)
        async with page.expect_navigation():  # a form post and its redirect: wait for the page
            await page.click("form.box button")
        assert page.url.endswith("/dashboard/requests")
        await page.screenshot(path=SHOTS / "2-list.png", full_page=True)
        await page.fill("input[name=q]", code.replace("-", " ").lower())
        async with page.expect_navigation():  # a form post and its redirect: wait for the page
            await page.click("form.filters button")
        assert code in await page.content()
        await page.screenshot(path=SHOTS / "3-search.png", full_page=True)
        async with page.expect_navigation():  # a form post and its redirect: wait for the page
            await page.click(f"text={code}")
        assert page.url.endswith(f"/dashboard/requests/{code}")
        playing = await page.evaluate("""async () => {
            const audio = document.querySelector('audio');
            await audio.play();
            await new Promise(r => setTimeout(r, 300));
            return {duration: audio.duration, time: audio.currentTime, error: audio.error};
        }""")
        assert playing["error"] is None and playing["duration"] > 0.9 and playing["time"] > 0
        await page.screenshot(path=SHOTS / "4-request.png", full_page=True)
        await page.fill("textarea[name=message]", "Une équipe passe au marigot jeudi.")
        async with page.expect_navigation():  # a form post and its redirect: wait for the page
            await page.click("text=Envoyer la réponse")
        assert "Enregistré." in await page.content()
        await page.select_option("select[name=status]", "in_progress")
        async with page.expect_navigation():  # a form post and its redirect: wait for the page
            await page.click("text=Changer le statut")
        content = await page.content()
        assert "En cours" in content
        await page.screenshot(path=SHOTS / "5-after-reply.png", full_page=True)
        await page.goto(f"{app.url}/dashboard/requests")
        async with page.expect_download() as download_info:
            await page.click("text=CSV")
        download = await download_info.value
        exported = Path(await download.path()).read_text(encoding="utf-8-sig")
        assert exported.startswith("reference,") and code in exported
        await browser.close()
    texts = [m.get("text", "") for m in telegram.sent_messages()]
    assert any("Une équipe passe au marigot jeudi." in t for t in texts)
    assert any("en cours" in t for t in texts)
