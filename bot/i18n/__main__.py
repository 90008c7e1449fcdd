"""``python -m bot.i18n <command>``: the catalogue commands behind ``make extract`` & co.

    extract          scan bot/ and write locales/messages.pot
    update           merge the .pot into every locales/<code>/LC_MESSAGES/messages.po
    compile          .po -> .mo for every language (unchanged files are not rewritten)
    coverage         per language: total, translated, missing, draft, reviewed
    export FILE      write every message in every language to FILE (.xlsx or .csv)
    import FILE      check FILE and write its translations back into the .po files
"""

from __future__ import annotations

import argparse
import sys

from bot.i18n.catalogues import Catalogues, print_coverage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None,
                        help="project directory holding bot/, babel.cfg and locales/ "
                             "(default: this repository)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("extract", help="scan bot/ into locales/messages.pot")
    commands.add_parser("update", help="merge the .pot into every .po")
    commands.add_parser("compile", help="compile every .po into its .mo")
    commands.add_parser("coverage", help="how much is translated and reviewed")
    export = commands.add_parser("export", help="write a spreadsheet for translators")
    export.add_argument("file", help="output .xlsx or .csv")
    load = commands.add_parser("import", help="read a translators' spreadsheet back")
    load.add_argument("file", help="input .xlsx or .csv")
    args = parser.parse_args(argv)

    catalogues = Catalogues() if args.root is None else Catalogues(args.root)
    if args.command == "extract":
        count = catalogues.extract()
        print(f"{catalogues.template_path}: {count} messages")
    elif args.command == "update":
        for language, added in catalogues.update().items():
            print(f"{catalogues.po_path(language)}: {added} new")
    elif args.command == "compile":
        problems = []
        for result in catalogues.compile():
            state = "written" if result.written else "unchanged"
            print(f"{catalogues.mo_path(result.language)}: {result.messages} messages, {state}")
            problems += result.problems
        for problem in problems:
            print(f"left out (French shown instead): {problem}", file=sys.stderr)
    elif args.command == "coverage":
        print_coverage(catalogues.coverage())
    elif args.command in ("export", "import"):
        from bot.i18n.sheets import ImportRefused, export_sheet, import_sheet

        if args.command == "export":
            rows = export_sheet(catalogues, args.file)
            print(f"{args.file}: {rows} rows")
            return 0
        try:
            changed = import_sheet(catalogues, args.file)
        except ImportRefused as refused:
            print(refused, file=sys.stderr)
            return 1
        for language, count in changed.items():
            print(f"{catalogues.po_path(language)}: {count} entries changed")
        if not changed:
            print("no change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
