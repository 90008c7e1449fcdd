"""Store maintenance commands.

    python -m bot.store rotate-key   # re-encrypt every identifier under the first key of
                                     # DATA_ENCRYPTION_KEY (new,old,...); see docs/SECURITY.md
    python -m bot.store retention    # apply the retention policy once (bot/core/retention.py)
"""

from __future__ import annotations

import argparse
import sys

from bot.config import get_settings
from bot.logging_setup import configure_logging
from bot.store.db import Database


def rotate_key() -> int:
    from bot.store.identities import IdentityVault, rotate_all, split_keys

    settings = get_settings()
    keys = split_keys(settings.data_key)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            report = rotate_all(session, IdentityVault(settings.data_key))
    finally:
        db.dispose()
    print(f"rotate-key: {report.reencrypted} values re-encrypted under the first of "
          f"{len(keys)} key(s); {report.unreadable} unreadable with any configured key")
    if report.unreadable:
        print("rotate-key: some values could not be read: keep every old key listed until "
              "they are found or erased", file=sys.stderr)
        return 1
    if len(keys) > 1:
        print("rotate-key: done; the old keys can now be removed from DATA_ENCRYPTION_KEY")
    return 0


def retention() -> int:
    from bot.core.retention import RetentionPolicy, apply_retention

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        report = apply_retention(db, RetentionPolicy.from_settings(settings),
                                 media_dir=settings.media_dir)
    finally:
        db.dispose()
    print(f"retention: {report}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.store")
    parser.add_argument("command", choices=["rotate-key", "retention"])
    args = parser.parse_args(argv)
    configure_logging()
    return {"rotate-key": rotate_key, "retention": retention}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
