"""Content tools.

    python -m bot.content check              # exit 1 and list every problem
    python -m bot.content export out.xlsx    # or out.csv: one row per (item, field, language)
    python -m bot.content import in.xlsx     # check the sheet, then write it back into content/
    python -m bot.content fingerprint        # the hash used to retrain Rasa when content changes
    python -m bot.content show ml_authorisation --lang bm   # an answer as the miner reads it

Add ``--root DIR`` to work on another content directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._load import DEFAULT_ROOT, ContentError, check_content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.content",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="content directory")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check content/ against the schema and channel limits")
    exp = sub.add_parser("export", help="write a review spreadsheet (.xlsx or .csv)")
    exp.add_argument("path", type=Path)
    imp = sub.add_parser("import", help="read a review spreadsheet back into content/")
    imp.add_argument("path", type=Path)
    sub.add_parser("fingerprint", help="print the content fingerprint")
    show = sub.add_parser("show", help="print an answer or a menu as the user reads it")
    show.add_argument("item", help="an answer id, or menu:<id>")
    show.add_argument("--lang", default="fr")
    args = parser.parse_args(argv)

    if args.command == "check":
        content, problems, warnings = check_content(args.root)
        for warning in warnings:
            print(f"warning: {warning}")
        if problems:
            print(f"{len(problems)} problem(s) in {args.root}:")
            for problem in problems:
                print(f"  - {problem}")
            return 1
        assert content is not None
        to_verify = sum(1 for a in content.answers.values() if a.to_verify)
        print(f"content OK: {len(content.answers)} answers ({to_verify} to verify), "
              f"{len(content.menus)} menus, {len(content.guides)} guide(s)")
        return 0

    from ._sheet import export_sheet, import_sheet  # openpyxl only when needed

    try:
        if args.command == "export":
            rows = export_sheet(args.path, args.root)
            print(f"wrote {rows} rows to {args.path}")
        elif args.command == "import":
            changed = import_sheet(args.path, args.root)
            print(f"updated {len(changed)} file(s): {', '.join(changed) if changed else 'none'}")
        elif args.command == "fingerprint":
            from ._load import load_content
            print(load_content(args.root).fingerprint())
        elif args.command == "show":
            return _show(args.root, args.item, args.lang)
    except ContentError as exc:
        print(exc)
        return 1
    except ValueError as exc:  # a sheet that does not match the content
        print(f"error: {exc}")
        return 1
    return 0


def _show(root: Path, item: str, lang: str) -> int:
    from ._load import load_content

    content = load_content(root)
    try:
        if item.startswith("menu:"):
            menu = content.menu(item.removeprefix("menu:"))
            print(menu.text(lang))
            for n, entry in enumerate(menu.items, start=1):
                countries = ", ".join(sorted(entry.countries))
                where = f"  [{countries}]" if menu.needs_country else ""
                print(f"{n}. {entry.title(lang)}{where}")
            return 0
        answer = content.answer(item.removeprefix("answer:"))
    except KeyError:
        print(f"unknown: {item}")
        return 1
    text = answer.text(lang)
    countries = ", ".join(sorted(answer.countries))
    print(f"[{answer.id} · {countries} · text {text.lang}/{text.status} · "
          f"review {answer.review.status} ({answer.review.organisation})]\n")
    print(answer.message(lang))
    if text.more:
        print("\n--- Suite ---\n" + text.more)
    print()
    for n, choice_id in enumerate(answer.related, start=1):
        print(f"{n}. {content.choice_title(choice_id, lang)}  ({choice_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
