"""Issue 14, door 8: partner e-mails use STARTTLS unless the operator says otherwise.

The requests carry what miners report; a relay that does not offer STARTTLS must not receive
them in clear text because a default was left alone.
"""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.core.notify import EmailSender, NotifyError, SmtpSettings
from bot.testing.smtp import FakeSmtp


def test_starttls_is_the_default_and_only_an_explicit_setting_turns_it_off(monkeypatch):
    monkeypatch.delenv("SMTP_STARTTLS", raising=False)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("SMTP_PORT", "")  # compose passes unset variables as empty strings
    settings = SmtpSettings.from_settings(load_settings())
    assert settings.starttls is True and settings.port == 587
    assert SmtpSettings("smtp.example.org").starttls is True
    monkeypatch.setenv("SMTP_STARTTLS", "0")
    assert SmtpSettings.from_settings(load_settings()).starttls is False


async def test_a_relay_without_starttls_gets_nothing_in_clear_text(monkeypatch):
    with FakeSmtp() as smtp:  # advertises no STARTTLS
        monkeypatch.delenv("SMTP_STARTTLS", raising=False)
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(smtp.port))
        sender = EmailSender(SmtpSettings.from_settings(load_settings()))
        with pytest.raises(NotifyError):
            await sender.send("suivi@partner.test", "Demande ML-234567", "Description : or volé")
        assert smtp.messages == []
        # Told otherwise (a relay on a trusted local network): sent without TLS.
        monkeypatch.setenv("SMTP_STARTTLS", "0")
        relay = SmtpSettings.from_settings(load_settings())
        await EmailSender(relay).send("suivi@partner.test", "Demande", "x")
        assert len(smtp.messages) == 1
