"""`make bench`: the assistant measured through the real Rasa with our model, each figure next
to Rasa called directly, in one run; or two trees compared back to back (`--baseline`).

    python -m bot.devtools.bench [--setup production|embedded] [--rasa-workers 2]
        [--postgres-url URL] [--redis-url URL] [--messages 200] [--users 200]
        [--concurrency 32] [--reply-timeout 60] [--fault-seconds 30] [--fault-users N]
        [--fault-path telegram] [--fault-after 5] [--direct auto|rest|parse] [--json PATH]
    python -m bot.devtools.bench --baseline GIT-REF [the options above]

The package: `setups` (production / embedded), `paths` (web chat and direct Rasa), `channels`
(Telegram and WhatsApp webhooks against the loopback fakes of bot/testing), `scenarios`
(fairness beside a web flood, the fault run), `cpu` (CPU per answered message, peak memory),
`run` (one run, phase by phase), `report` (tables, goals, JSON), `trees` and `compare` (the
old design against this tree, back to back). docs/BENCH.md says what each figure means.
These machines are noisy: compare ratios measured in the same run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot.devtools.bench",
                                description="Benchmark the gateway against bare Rasa")
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--users", type=int, default=200,
                   help="simulated users on each path (web, direct, Telegram, WhatsApp)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--reply-timeout", type=float, default=60.0,
                   help="a channel message without an answer after this long is lost")
    p.add_argument("--fault-seconds", type=float, default=30.0,
                   help="how long Rasa stays killed in the fault run (0: no fault run)")
    p.add_argument("--fault-users", type=int, default=None,
                   help="users in the fault run (default: --users)")
    p.add_argument("--fault-path", choices=("telegram", "whatsapp"), default="telegram")
    p.add_argument("--fault-after", type=float, default=5.0,
                   help="seconds of load before Rasa is killed")
    p.add_argument("--start-timeout", type=float, default=400.0,
                   help="seconds allowed from launching the stack to its first answer")
    p.add_argument("--flood-senders", type=int, default=64,
                   help="web senders flooding /api/chat beside Telegram traffic (0: no flood "
                        "phase)")
    p.add_argument("--flood-users", type=int, default=None,
                   help="Telegram users in each run of the flood phase (default: --users)")
    p.add_argument("--flood-concurrency", type=int, default=4,
                   help="Telegram messages awaiting their answer at once in the flood phase "
                        "(ordinary traffic, not a saturating load)")
    p.add_argument("--setup", choices=("production", "embedded"), default="production",
                   help="production: PostgreSQL, Redis lock store, several Rasa workers "
                        "(docker-compose.yml); embedded: SQLite, one Rasa (make run)")
    p.add_argument("--rasa-workers", type=int, default=None,
                   help="Rasa Sanic workers (production only; default 2)")
    p.add_argument("--postgres-url",
                   default=os.environ.get("BENCH_POSTGRES_URL")
                   or "postgresql://postgres@127.0.0.1:5432",
                   help="PostgreSQL server for the production setup (env BENCH_POSTGRES_URL)")
    p.add_argument("--redis-url",
                   default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
                   help="Redis for Rasa's lock store in the production setup (env REDIS_URL)")
    p.add_argument("--direct", choices=("auto", "rest", "parse"), default="auto",
                   help="the direct-Rasa reference: its REST channel (whole turn) or "
                        "/model/parse (NLU only); auto: REST if the model holds a dialogue")
    p.add_argument("--json", type=Path, default=None,
                   help="also write the figures to this file as JSON")
    p.add_argument("--baseline", metavar="GIT-REF", default=None,
                   help="compare: run GIT-REF's own bench (in a worktree under var/bench/"
                        "trees/), then this tree's, same options; table and "
                        "var/bench/compare.json")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    args = p.parse_args(argv)
    if args.baseline is not None:
        from bot.devtools.bench import compare

        sys.exit(compare.main(args.baseline, compare.forwarded(argv)))
    args.fault_users = args.fault_users or args.users
    args.flood_users = args.flood_users or args.users
    if args.rasa_workers is None:
        args.rasa_workers = 2 if args.setup == "production" else 1
    if args.rasa_workers < 1:
        p.error("--rasa-workers must be at least 1")
    if args.setup == "embedded" and args.rasa_workers != 1:
        p.error("--setup embedded runs one Rasa process (no lock store); several workers "
                "need --setup production")

    from bot.devtools.bench import report, run

    results = run.run(args)
    report.print_report(args, results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.figures(args, results), indent=2,
                                        default=float) + "\n")


if __name__ == "__main__":
    main()
