"""docker-compose.yml cannot run here (no Docker engine): read it and check it is coherent."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = {
    line.split("=", 1)[0]
    for line in (ROOT / ".env.example").read_text().splitlines()
    if line and not line.startswith("#") and "=" in line
}
ARCHITECTURE_NAMES = {
    "DATABASE_URL", "RASA_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL",
    "TELEGRAM_API_FILE_URL", "TELEGRAM_WEBHOOK_SECRET", "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_API_BASE_URL", "PORT",
}


def test_the_production_services_are_all_there():
    assert set(SERVICES) == {"app", "rasa", "postgres", "redis"}  # no action server
    assert SERVICES["rasa"]["image"] == "rasa/rasa:3.6.21"
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")


def test_every_service_has_a_health_check_and_depends_only_on_known_services():
    for name, service in SERVICES.items():
        assert "healthcheck" in service, name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency]


def test_every_variable_used_is_documented_in_env_example():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}",
                          (ROOT / "docker-compose.yml").read_text()))
    assert used - ENV_EXAMPLE == set()


def test_the_app_gets_every_configuration_name_from_the_architecture():
    app_env = set(SERVICES["app"]["environment"])
    assert app_env | {"PORT"} >= ARCHITECTURE_NAMES
    assert SERVICES["app"]["environment"]["RASA_URL"] == "http://rasa:5005"
    assert "rasa" in SERVICES["app"]["depends_on"] and "postgres" in SERVICES["app"]["depends_on"]


def test_ports_line_up_between_services():
    assert SERVICES["app"]["ports"] == ["${PORT}:8000"]
    assert SERVICES["app"]["environment"]["PORT"] == "8000"
    rasa_command = SERVICES["rasa"]["command"]
    assert rasa_command[rasa_command.index("--port") + 1] == "5005"
    assert "5005" in SERVICES["rasa"]["expose"]


def test_volumes_are_declared_and_mounted_files_exist():
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
    assert any(v.startswith("pgdata:") for v in SERVICES["postgres"]["volumes"])


def test_rasa_serves_only_the_nlu_model():
    """No endpoints or credentials: no tracker store, lock store, action server or webhook
    (Rasa keeps no copy of any message); the API behind the token."""
    command = SERVICES["rasa"]["command"]
    assert "--endpoints" not in command
    assert "--debug" not in command and "--enable-api" in command
    assert SERVICES["rasa"]["environment"]["LOG_LEVEL"] == "INFO"  # DEBUG logs parsed texts
    assert command[command.index("--auth-token") + 1].startswith("${RASA_TOKEN:?")
    assert command[command.index("--credentials") + 1] == "/app/credentials.yml"
    assert "./deploy/rasa-credentials.yml:/app/credentials.yml:ro" in SERVICES["rasa"]["volumes"]
    assert yaml.safe_load((ROOT / "deploy" / "rasa-credentials.yml").read_text()) == {}
    assert not (ROOT / "nlu" / "endpoints.yml").exists()
    assert not (ROOT / "nlu" / "credentials.yml").exists()


def test_the_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.10" in dockerfile
    assert "--require-hashes -r requirements/app.lock" in dockerfile
