"""Dashboard accounts from the command line (there are no default credentials).

    python -m bot.dashboard create-admin --organisation pact --username awa
    python -m bot.dashboard create-user --organisation femima --username ali --role caseworker

The password is asked twice on the terminal (or read from DASHBOARD_NEW_PASSWORD for
scripts). Organisations are the partners (and committees) of content/partners.yml.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from bot.config import get_settings
from bot.store.dashboard_models import ROLES
from bot.store.db import Database


def _password() -> str:
    given = os.environ.get("DASHBOARD_NEW_PASSWORD")
    if given:
        return given
    first = getpass.getpass("Mot de passe (10 caractères au moins) : ")
    if getpass.getpass("Encore : ") != first:
        raise SystemExit("create-user: les deux mots de passe sont différents")
    return first


def create(organisation: str, username: str, role: str) -> int:
    from bot.store import dashboard as ds

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        db.upgrade()
        with db.session() as session:
            ds.sync_organisations(session)
            known = [o.id for o in ds.organisations(session)]
            if organisation not in known:
                print(f"create-user: unknown organisation {organisation!r} "
                      f"(known: {', '.join(known)})", file=sys.stderr)
                return 2
            try:
                user = ds.create_user(session, username, _password(), organisation, role)
            except ds.AccountError as exc:
                print(f"create-user: {exc}", file=sys.stderr)
                return 2
            ds.audit(session, None, "user_created", username="(command line)",
                     detail=f"{user.username} {role} {organisation}")
            print(f"created {user.username} ({role}, {organisation})")
    finally:
        db.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="the first administrator of an organisation")
    user = commands.add_parser("create-user", help="any account")
    for sub in (admin, user):
        sub.add_argument("--organisation", required=True)
        sub.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=ROLES)
    args = parser.parse_args(argv)
    return create(args.organisation, args.username,
                  "admin" if args.command == "create-admin" else args.role)


if __name__ == "__main__":
    sys.exit(main())
