"""`make audit`: check the locked environments against the known-vulnerabilities database.

    python -m bot.devtools.audit [LOCK ...]     (default: requirements/app.lock, dev.lock)

Runs pip-audit on each lock file as it is (hashes required, nothing resolved again), first
with PyPI's advisory service, then OSV's. Exit codes:
- 1: a locked package has a known vulnerability (each is printed with its fix versions);
- 0: nothing known, or the database could not be consulted: then it says so loudly ("NOT
  CHECKED") and does not fail the build, since a registry proxy without the advisory API or
  a machine without network cannot tell us anything either way.
How we know the database answers: a canary, `starlette==0.48.0`, has CVE-2025-62727; a service
that does not report it is not answering (a proxy that serves only the package index answers
404 for every release, which pip-audit takes as "not on PyPI" and skips), and then the lock's
clean result would mean nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ROOT

LOCKS = (ROOT / "requirements" / "app.lock", ROOT / "requirements" / "dev.lock")
SERVICES = ("pypi", "osv")
CANARY = "starlette==0.48.0"
CANARY_IDS = {"CVE-2025-62727", "GHSA-7f5h-v6xp-fcq8"}


@dataclass
class Report:
    """What pip-audit said about one requirements file."""

    vulnerable: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    checked: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None  # pip-audit could not run or gave no report

    @property
    def answered(self) -> bool:
        """Whether the service looked at anything at all."""
        return self.error is None and self.checked > 0


def parse(output: str, stderr: str = "") -> Report:
    """pip-audit's JSON report (`--format json`) as a Report."""
    try:
        data = json.loads(output)
    except ValueError:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return Report(error=last[:300])
    report = Report()
    for dependency in data.get("dependencies", []):
        if dependency.get("skip_reason"):
            report.skipped.append((dependency.get("name", "?"), dependency["skip_reason"]))
            continue
        report.checked += 1
        vulns = dependency.get("vulns") or []
        if vulns:
            ids = [v.get("id", "?") + (f" ({', '.join(v['aliases'])})" if v.get("aliases")
                                       else "") for v in vulns]
            fixes = sorted({fix for v in vulns for fix in v.get("fix_versions") or []})
            report.vulnerable.append((dependency["name"], dependency.get("version", "?"),
                                      ids, fixes))
    return report


def pip_audit(requirements: Path, service: str, *options: str) -> Report:
    command = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--disable-pip",
               *options, "--vulnerability-service", service, "--format", "json",
               "--progress-spinner", "off", "--timeout", "20"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Report(error=f"{type(exc).__name__}: {exc}")
    return parse(done.stdout, done.stderr)


def canary_seen(report: Report) -> bool:
    """Whether the report names the canary's vulnerability (by its id or an alias)."""
    said = " ".join(" ".join(ids) for _name, _version, ids, _fixes in report.vulnerable)
    return any(known in said for known in CANARY_IDS)


def working_service(run=pip_audit) -> tuple[str | None, dict[str, str]]:
    """The first service that reports the canary's known vulnerability; why others did not."""
    reasons: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        canary = Path(folder) / "canary.txt"
        canary.write_text(CANARY + "\n")
        for service in SERVICES:
            report = run(canary, service, "--no-deps")
            if canary_seen(report):
                return service, reasons
            reasons[service] = (report.error or (report.skipped[0][1] if report.skipped
                                                 else "did not report the canary's CVE"))
    return None, reasons


def main(argv: list[str] | None = None, run=pip_audit) -> int:
    """`run(requirements, service, *options) -> Report`: pip-audit (tests pass another)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="*", type=Path, default=list(LOCKS))
    args = parser.parse_args(argv)
    service, reasons = working_service(run)
    if service is None:
        print("audit: NOT CHECKED: no vulnerability database answered ("
              + "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
              + "). The lock files were not audited; this does not fail the build.")
        return 0
    failed = False
    for lock in args.locks:
        report = run(lock, service, "--require-hashes")
        where = lock.relative_to(ROOT) if lock.is_relative_to(ROOT) else lock
        if report.error:
            print(f"audit: {where}: pip-audit failed: {report.error}")
            failed = True
            continue
        for name, version, ids, fixes in report.vulnerable:
            print(f"audit: {where}: {name} {version} is vulnerable: {', '.join(ids)}; fixed in "
                  f"{', '.join(fixes) or 'no release yet'}")
        for name, reason in report.skipped:
            print(f"audit: {where}: {name} not checked: {reason}")
        failed |= bool(report.vulnerable)
        print(f"audit: {where}: {report.checked} packages checked against {service}'s "
              f"database, {len(report.vulnerable)} vulnerable, {len(report.skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
