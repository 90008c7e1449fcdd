"""Issue 14, doors 2 and 8, read from docker-compose.yml (no Docker engine here).

Compose refuses to start without the encryption key, the database password and RASA_TOKEN
(`${VAR:?message}`), every service that reads identifiers gets the same key, .env.example
ships them empty (a copied file cannot start with a published placeholder), and the app gets
the SMTP settings.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(TEXT)
SERVICES = COMPOSE["services"]
REQUIRED = ("DATA_ENCRYPTION_KEY", "POSTGRES_PASSWORD", "RASA_TOKEN")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def _references(text: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2) or "", m.group(3) or "") for m in REFERENCE.finditer(text)]


def test_compose_refuses_to_start_without_its_secrets():
    refs = _references(TEXT)
    for name in REQUIRED:
        uses = [(op, message) for ref, op, message in refs if ref == name]
        assert uses, f"{name} is not used"
        for op, message in uses:
            # ":?" also refuses an empty value (what a copied .env.example holds).
            assert op == ":?" and message.strip(), f"{name} is used without ${{{name}:?...}}"


def test_every_process_that_reads_identifiers_gets_the_one_key():
    for service in ("app",):
        value = SERVICES[service]["environment"]["DATA_ENCRYPTION_KEY"]
        assert _references(value)[0][:2] == ("DATA_ENCRYPTION_KEY", ":?"), service
    # A key generated inside a container would live on a layer that a rebuild throws away.
    for name, service in SERVICES.items():
        env = service.get("environment") or {}
        if "DATABASE_URL" in env:
            assert "DATA_ENCRYPTION_KEY" in env, name


def test_env_example_ships_the_secrets_empty():
    values = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#") and "=" in line)
    for name in REQUIRED:
        assert values.get(name) == "", f"{name} must be empty in .env.example"


def test_the_app_gets_the_smtp_settings_with_starttls_on_by_default():
    env = SERVICES["app"]["environment"]
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_USERNAME", "SMTP_PASSWORD",
                 "SMTP_STARTTLS", "DASHBOARD_URL"):
        assert name in env, name
    assert _references(env["SMTP_STARTTLS"]) == [("SMTP_STARTTLS", ":-", "1")]
