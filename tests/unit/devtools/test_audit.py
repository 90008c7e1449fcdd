"""`make audit` (issue 14, door 5): fails on a known vulnerability in a lock file, and says
plainly, without failing, when no vulnerability database answered. pip-audit's real JSON
report format; the runner stands in for pip-audit and its network."""

from __future__ import annotations

import json
from pathlib import Path

from bot.devtools import audit

VULNERABLE = json.dumps({"dependencies": [
    {"name": "starlette", "version": "0.48.0", "vulns": [
        {"id": "GHSA-7f5h-v6xp-fcq8", "fix_versions": ["0.49.1"], "aliases": ["CVE-2025-62727"],
         "description": "O(n^2) DoS via Range header merging in FileResponse"}]},
    {"name": "uvicorn", "version": "0.37.0", "vulns": []}], "fixes": []})
CLEAN = json.dumps({"dependencies": [{"name": "starlette", "version": "0.49.1", "vulns": []},
                                     {"name": "uvicorn", "version": "0.37.0", "vulns": []}],
                    "fixes": []})
# What pip-audit reports when the registry serves the index but 404 for release metadata.
UNREACHABLE = json.dumps({"dependencies": [
    {"name": "starlette", "skip_reason": "Dependency not found on PyPI and could not be "
                                         "audited: starlette (0.48.0)"}], "fixes": []})


def test_a_report_with_a_known_vulnerability_is_read_with_its_fix():
    report = audit.parse(VULNERABLE)
    assert report.checked == 2 and report.answered
    (name, version, ids, fixes), = report.vulnerable
    assert (name, version, fixes) == ("starlette", "0.48.0", ["0.49.1"])
    assert "CVE-2025-62727" in ids[0]
    assert audit.canary_seen(report)
    assert not audit.canary_seen(audit.parse(CLEAN))


def test_a_report_where_everything_was_skipped_checked_nothing():
    report = audit.parse(UNREACHABLE)
    assert report.checked == 0 and not report.answered and not audit.canary_seen(report)
    assert audit.parse("", "ConnectionError: api.osv.dev").error.startswith("ConnectionError")


def runner(lock_output: str, canary_output: str = VULNERABLE):
    calls = []

    def run(requirements: Path, service: str, *options: str) -> audit.Report:
        calls.append((requirements.name, service, options))
        return audit.parse(canary_output if "--no-deps" in options else lock_output)

    run.calls = calls
    return run


def test_a_vulnerable_lock_fails_the_audit(capsys, tmp_path):
    lock = tmp_path / "app.lock"
    assert audit.main([str(lock)], run=runner(VULNERABLE)) == 1
    out = capsys.readouterr().out
    assert "starlette 0.48.0 is vulnerable" in out and "0.49.1" in out


def test_a_clean_lock_passes_and_says_what_was_checked(capsys, tmp_path):
    lock = tmp_path / "app.lock"
    run = runner(CLEAN)
    assert audit.main([str(lock)], run=run) == 0
    assert "2 packages checked against pypi's database, 0 vulnerable" in capsys.readouterr().out
    assert ("app.lock", "pypi", ("--require-hashes",)) in run.calls


def test_no_database_answering_is_said_and_does_not_fail(capsys, tmp_path):
    run = runner(VULNERABLE, canary_output=UNREACHABLE)
    assert audit.main([str(tmp_path / "app.lock")], run=run) == 0
    out = capsys.readouterr().out
    assert "NOT CHECKED" in out and "not found on PyPI" in out
    # Both services were tried, and the lock itself was never trusted to a deaf service.
    assert [call[1] for call in run.calls] == ["pypi", "osv"]
