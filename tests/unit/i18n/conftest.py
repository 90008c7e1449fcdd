"""Fixtures for the interface-text tests: a throw-away copy of the project's catalogues."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n.catalogues import PROJECT_ROOT, Catalogues


@pytest.fixture
def project(tmp_path: Path) -> Catalogues:
    """A copy of locales/ and babel.cfg in tmp_path (with an empty bot/), safe to modify."""
    shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales",
                    ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(PROJECT_ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "bot").mkdir()
    return Catalogues(tmp_path)


def snapshot(catalogues: Catalogues) -> dict[str, bytes]:
    """The bytes of every .pot/.po file, to prove a command changed nothing."""
    return {str(path.relative_to(catalogues.locales)): path.read_bytes()
            for path in sorted(catalogues.locales.rglob("*.po*"))}
