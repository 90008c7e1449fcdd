"""The gettext files under ``locales/``: extract, update, compile, coverage.

Layout::

    locales/messages.pot                      every interface string (French msgids)
    locales/<code>/LC_MESSAGES/messages.po    one per language in LANGUAGES (committed)
    locales/<code>/LC_MESSAGES/messages.mo    compiled (gitignored; ``make compile``)

Babel reads and writes the files (``bot/i18n/pofiles.py``, which also keeps the
``Plural-Forms`` header for the languages CLDR does not know); ``bot/i18n/entries.py`` reads
one entry (placeholders, translated forms, review status). Their public names are re-exported
here.

Every translation carries a review status in a translator comment (``# status: draft`` or
``# status: reviewed``). We do not use the gettext ``fuzzy`` flag for drafts: fuzzy entries
are left out of the .mo, and a draft in Bambara is better for a miner than French.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import default_directory_filter, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from bot.i18n.entries import (
    DRAFT,
    REVIEWED,
    STATUSES,
    get_status,
    has_status,
    is_translated,
    message_forms,
    message_problems,
    placeholder_problems,
    placeholders,
    set_status,
    source_label,
    source_text,
)
from bot.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES
from bot.i18n.pofiles import (
    HEADER_COMMENT,
    PROJECT,
    Catalogue,
    atomic_write,
    compile_catalogue,
    french_source_forms,
    iter_messages,
    new_catalogue,
    normalize_plural,
    read_catalogue,
    render_catalogue,
    write_catalogue,
    write_if_changed,
)

__all__ = [
    "COMMENT_TAGS", "DEFAULT_MAPPING", "DOMAIN", "DRAFT", "KEYWORDS", "PROJECT_ROOT", "REVIEWED",
    "STATUSES", "Catalogues", "CompileResult", "Coverage", "compile_catalogue", "get_status",
    "has_status", "is_translated", "iter_messages", "message_forms", "message_problems",
    "placeholder_problems", "placeholders", "print_coverage", "set_status", "source_label",
    "source_text",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "messages"

#: Functions whose string arguments are interface text (``t.gettext("...")`` works too: the
#: extractor looks at the name just before the parenthesis).
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
#: ``# TRANSLATORS: ...`` comments just above a marked string are copied into the catalogue.
COMMENT_TAGS = ("TRANSLATORS:",)
DEFAULT_MAPPING = [("bot/**.py", "python")]


@dataclass
class Coverage:
    """How much of the template one language's catalogue covers."""

    language: str
    total: int = 0
    translated: int = 0
    draft: int = 0
    reviewed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.total - self.translated


@dataclass
class CompileResult:
    language: str
    messages: int
    written: bool
    problems: list[str]


class Catalogues:
    """The ``locales/`` directory of a project (the repository by default).

    Tests point it at a copy in a temporary directory.
    """

    def __init__(self, root: Path | str = PROJECT_ROOT) -> None:
        self.root = Path(root)
        self.locales = self.root / "locales"
        self.template_path = self.locales / f"{DOMAIN}.pot"

    def po_path(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"

    def mo_path(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{DOMAIN}.mo"

    # reading and writing ------------------------------------------------------------------

    def read_template(self) -> Catalog:
        if not self.template_path.exists():
            raise FileNotFoundError(f"{self.template_path} is missing: run `make extract`")
        return read_catalogue(self.template_path, None)

    def read(self, language: str) -> Catalog:
        """The catalogue of ``language`` (an empty one if its .po does not exist yet)."""
        path = self.po_path(language)
        if not path.exists():
            return new_catalogue(language)
        return read_catalogue(path, language)

    def write(self, language: str, catalogue: Catalog) -> bool:
        """Write ``catalogue`` as the .po of ``language``; False when the file was unchanged."""
        return write_if_changed(self.po_path(language), catalogue)

    # commands -------------------------------------------------------------------------------

    def extract(self) -> int:
        """Scan ``bot/`` for marked strings and write ``locales/messages.pot``.

        Returns the number of messages. The file is rewritten only when messages changed, so
        running it twice gives no diff.
        """
        method_map, options_map = self._mapping()
        template = Catalogue(project=PROJECT, version="interface", copyright_holder=PROJECT,
                              msgid_bugs_address="", fuzzy=False,
                              header_comment=HEADER_COMMENT)
        if not (self.root / "bot").is_dir():
            raise FileNotFoundError(f"{self.root / 'bot'} does not exist")

        def inside_bot(path: str) -> bool:
            relative = Path(path).resolve().relative_to(self.root.resolve())
            return relative.parts[0] == "bot" and default_directory_filter(path)

        found = extract_from_dir(self.root, method_map, options_map, keywords=KEYWORDS,
                                 comment_tags=COMMENT_TAGS, strip_comment_tags=True,
                                 directory_filter=inside_bot)
        for filename, lineno, text, comments, context in found:
            if not (text[0] if isinstance(text, tuple) else text):
                continue  # gettext(variable): not a literal, nothing to translate
            template.add(text, None, [(filename, lineno)], auto_comments=comments,
                         context=context)
        old = read_catalogue(self.template_path, None) if self.template_path.exists() else None
        if old is not None and render_catalogue(old, True) == render_catalogue(template, True):
            return len(template)  # same messages: keep the file and its creation date
        write_catalogue(self.template_path, template)
        return len(template)

    def update(self) -> dict[str, int]:
        """Merge the template into every language's .po, keeping existing translations.

        New entries get ``# status: draft`` (French entries are filled with the msgid and
        marked reviewed: French is the source). Entries gone from the code are kept at the
        end of the file as obsolete (``#~``) and come back with their translation if the
        string reappears. Returns the number of new entries per language.
        """
        self.read_template()  # fail early when it is missing
        added: dict[str, int] = {}
        for language in LANGUAGES:
            catalogue = self.read(language)
            # Catalog.update adds the template's own Message objects: one template per language.
            fresh = self.read_template()
            old_obsolete = dict(catalogue.obsolete)
            before = {message.id if isinstance(message.id, str) else message.id[0]
                      for message in catalogue if message.id}
            catalogue.update(fresh, no_fuzzy_matching=True)
            count = 0
            for message in catalogue:
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                if key not in before:
                    count += 1
                    previous = old_obsolete.get(key)
                    if previous is not None and previous.string:
                        message.string = previous.string
                        message.user_comments = list(previous.user_comments)
                        catalogue.obsolete.pop(key, None)
                normalize_plural(message, catalogue.num_plurals)
                message.flags.discard("fuzzy")
                if language == DEFAULT_LANGUAGE and not is_translated(message):
                    message.string = french_source_forms(message, catalogue.num_plurals)
                    set_status(message, REVIEWED)
                elif not has_status(message):
                    set_status(message, DRAFT)
            self.write(language, catalogue)
            added[language] = count
        return added

    def compile(self, languages: Iterable[str] = LANGUAGES) -> list[CompileResult]:
        """Compile each .po into its .mo; unchanged .mo files are not rewritten.

        A translation with a placeholder problem is left out (users see the French text for
        that entry) and reported; ``import`` refuses such translations in the first place.
        """
        results = []
        for language in languages:
            catalogue = self.read(language)
            data, count, problems = compile_catalogue(catalogue)
            path = self.mo_path(language)
            written = not path.exists() or path.read_bytes() != data
            if written:
                atomic_write(path, data)
            results.append(CompileResult(language, count, written, problems))
        return results

    def coverage(self) -> list[Coverage]:
        """Per language: messages in the template, translated, missing, draft, reviewed."""
        template = self.read_template()
        report = []
        for language in LANGUAGES:
            catalogue = self.read(language)
            entry = Coverage(language)
            for source in template:
                if not source.id:
                    continue
                entry.total += 1
                message = catalogue.get(source.id)
                if message is None or not is_translated(message):
                    continue
                entry.translated += 1
                if get_status(message) == REVIEWED:
                    entry.reviewed += 1
                else:
                    entry.draft += 1
                entry.problems += [f"{language}: {source_label(message)}: {problem}"
                                   for problem in message_problems(message)]
            report.append(entry)
        return report

    def _mapping(self) -> tuple[list[tuple[str, str]], dict]:
        config = self.root / "babel.cfg"
        if not config.exists():
            return DEFAULT_MAPPING, {}
        with config.open(encoding="utf-8") as fileobj:
            return parse_mapping_cfg(fileobj, filename=str(config))


def print_coverage(report: list[Coverage], out=sys.stdout) -> None:
    print(f"{'language':<22}{'total':>6}{'translated':>11}{'missing':>8}{'draft':>6}"
          f"{'reviewed':>9}", file=out)
    for entry in report:
        name = f"{entry.language} {LANGUAGES[entry.language]}"
        print(f"{name:<22}{entry.total:>6}{entry.translated:>11}{entry.missing:>8}"
              f"{entry.draft:>6}{entry.reviewed:>9}", file=out)
    problems = [problem for entry in report for problem in entry.problems]
    if problems:
        print(f"\n{len(problems)} translation(s) with placeholder problems (left out of the .mo):",
              file=out)
        for problem in problems:
            print(f"  {problem}", file=out)
