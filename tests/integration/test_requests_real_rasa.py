"""Follow-up requests through the real pipeline: web chat -> app -> real Rasa -> actions.

French: report a problem, get a reference code, check its status. Bambara: the protection
flow, with a marker sentence that must then be found in no store and no log of ours or Rasa's.
"""

from __future__ import annotations

import re
import sqlite3

from tests.integration.chat import Chat

CODE = re.compile(r"\b(ML|GN|SN)-[A-HJ-KM-NP-Z2-9]{6}\b")
MARKER = "ZX-MARQUEUR-9183 mon voisin Seydou m'a fait du mal"


def test_report_a_land_conflict_then_check_its_status_in_french(chat: Chat):
    chat.say("Bonjour")
    chat.press("country:ML")
    chat.say("je veux signaler un problème sur le site").has_choice(
        "flow:report:cat:land_conflict")
    chat.press("flow:report:cat:land_conflict").expect("où")
    chat.say("à Kéniéba")
    chat.say("des gens veulent prendre le terrain de notre coopérative")
    chat.press("flow:report:contact:no")
    done = chat.press("flow:report:confirm")
    match = CODE.search(done.text)
    assert match and match.group(1) == "ML", done.text
    code = match.group(0)
    chat.say("où en est ma demande ?")
    status = chat.say(code)
    assert code in status.text or "nouvelle" in status.text.lower(), status.text


def test_protection_in_bambara_keeps_nothing_the_user_typed(stack, chat: Chat):
    chat.say("Bonjour ZX-CONTROLE-5521")  # typed outside the flow: kept, as a control
    chat.press("lang:bm")
    chat.press("country:ML")
    help_turn = chat.say("cɛ dɔ ye n tɔɔrɔ damanda la")
    assert "80 00 11 32" in help_turn.text, help_turn.text
    chat.say(MARKER)
    chat.say("menu")
    stores = []
    for db in ("assistant.db", "rasa-tracker.db"):
        path = stack.workdir / db
        if path.exists():
            stores.append("\n".join(sqlite3.connect(path).iterdump()))
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.workdir / "logs").glob("*.log"))
    assert stores, "no database found to search"
    # The search does look where messages are kept: the control message is in both stores.
    assert all("zx-controle-5521" in store.lower() for store in stores)
    for where, text in [("databases", "\n".join(stores)), ("logs", logs)]:
        assert "ZX-MARQUEUR-9183" not in text, f"the marker was kept in the {where}"
        assert "Seydou" not in text, f"the marker was kept in the {where}"
