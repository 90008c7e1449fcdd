"""The gettext files under ``locales/``: extract, update, compile, coverage.

Layout::

    locales/messages.pot                      every interface string (French msgids)
    locales/<code>/LC_MESSAGES/messages.po    one per language in LANGUAGES (committed)
    locales/<code>/LC_MESSAGES/messages.mo    compiled (gitignored; ``make compile``)

Babel reads and writes the files, but Babel only knows CLDR locales, and Maninka (emk) and
Soninke (snk) are not in CLDR: for them ``Catalog.locale`` is None and Babel would drop the
``Plural-Forms`` header. ``_Catalogue`` always writes the rule from ``PLURAL_FORMS``.

Every translation carries a review status in a translator comment (``# status: draft`` or
``# status: reviewed``). We do not use the gettext ``fuzzy`` flag for drafts: fuzzy entries
are left out of the .mo, and a draft in Bambara is better for a miner than French.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import string
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import default_directory_filter, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileParser, write_po

from bot.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES, PLURAL_FORMS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "messages"

#: Functions whose string arguments are interface text (``t.gettext("...")`` works too: the
#: extractor looks at the name just before the parenthesis).
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
#: ``# TRANSLATORS: ...`` comments just above a marked string are copied into the catalogue.
COMMENT_TAGS = ("TRANSLATORS:",)
DEFAULT_MAPPING = [("bot/**.py", "python")]

DRAFT = "draft"
REVIEWED = "reviewed"
STATUSES = (DRAFT, REVIEWED)
_STATUS_PREFIX = "status:"

_PROJECT = "orpaillage-assistant"
# Stands in for the .pot creation date when comparing old and new templates.
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
_HEADER_COMMENT = """\
# Translations template for the orpaillage assistant.
# Edit translations through the spreadsheet workflow described in docs/TRANSLATING.md.
# Each translated entry carries "# status: draft" or "# status: reviewed".
#"""


class _Catalogue(Catalog):
    """A Babel catalogue that keeps ``Plural-Forms`` even when Babel does not know the locale."""

    def _get_mime_headers(self) -> list[tuple[str, str]]:
        headers = super()._get_mime_headers()
        if self.locale is None and self._num_plurals is not None:
            names = [name for name, _ in headers]
            position = names.index("Language-Team") + 1
            headers.insert(position, ("Plural-Forms", self.plural_forms))
        return headers

    mime_headers = property(_get_mime_headers, Catalog._set_mime_headers)


# --- placeholders ---------------------------------------------------------------------------

# printf-style: %s, %d, %(name)s ... A space is not accepted as a flag so that French "50 %
# des" is not read as a placeholder.
_PRINTF = re.compile(r"%(?:\((?P<name>\w+)\))?[-#0+]*(?:\d+|\*)?(?:\.\d+)?[sdiouxXeEfFgGcr]")


def placeholders(text: str) -> list[str]:
    """The placeholders in ``text``, sorted: ``{name}``, ``{0}``, ``%(n)s``, ``%s``...

    Raises ValueError when ``text`` has unbalanced braces.
    """
    found = [match.group(0) for match in _PRINTF.finditer(text.replace("%%", ""))]
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            found.append("{" + name + ("!" + conversion if conversion else "")
                         + (":" + spec if spec else "") + "}")
    return sorted(found)


def placeholder_problems(source: str | tuple[str, ...], forms: Iterable[str]) -> list[str]:
    """Why the translated ``forms`` of ``source`` (msgid or (msgid, msgid_plural)) are unsafe.

    Every form must use only the source's placeholders; the last form (the only one for
    languages with one plural form) must use exactly the placeholders of the last source
    string. Code formats the translation with the source's arguments, so an unknown
    placeholder would crash and a missing one would drop a value.
    """
    sources = [source] if isinstance(source, str) else list(source)
    try:
        wanted_last = placeholders(sources[-1])
        allowed = set().union(*(placeholders(text) for text in sources))
    except ValueError:
        return []  # the source itself is not a format string: nothing to compare
    problems: list[str] = []
    forms = list(forms)
    for index, form in enumerate(forms):
        if not form:
            continue
        try:
            used = placeholders(form)
        except ValueError:
            problems.append(f"unbalanced {{ or }} in {form!r}")
            continue
        unknown = sorted(set(used) - allowed)
        if unknown:
            problems.append(f"unknown placeholder {', '.join(unknown)} (the French text has "
                            f"{', '.join(sorted(allowed)) or 'none'})")
        if index == len(forms) - 1:
            missing = sorted(set(wanted_last) - set(used))
            if missing:
                problems.append(f"placeholder {', '.join(missing)} missing from the translation")
            elif sorted(used) != wanted_last and not unknown:
                problems.append(f"placeholders {used} do not match the French {wanted_last}")
    return problems


# --- one message ----------------------------------------------------------------------------

def message_forms(message: Message) -> tuple[str, ...]:
    """The translated text of ``message`` as a tuple (one element unless plural)."""
    if isinstance(message.string, (list, tuple)):
        return tuple(message.string)
    return (message.string or "",)


def is_translated(message: Message) -> bool:
    """True when every form of ``message`` has text."""
    forms = message_forms(message)
    return bool(forms) and all(forms)


def get_status(message: Message) -> str:
    """``draft`` or ``reviewed``; a translation without a status line counts as a draft."""
    for comment in message.user_comments:
        if comment.strip().startswith(_STATUS_PREFIX):
            value = comment.strip()[len(_STATUS_PREFIX):].strip().lower()
            return value if value in STATUSES else DRAFT
    return DRAFT


def has_status(message: Message) -> bool:
    return any(c.strip().startswith(_STATUS_PREFIX) for c in message.user_comments)


def set_status(message: Message, status: str) -> None:
    """Write ``# status: <status>`` on ``message``, replacing any previous status line."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    line = f"{_STATUS_PREFIX} {status}"
    comments = list(message.user_comments)
    for index, comment in enumerate(comments):
        if comment.strip().startswith(_STATUS_PREFIX):
            comments[index] = line
            break
    else:
        comments.append(line)
    message.user_comments = comments


def source_text(message: Message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def message_problems(message: Message) -> list[str]:
    """Placeholder problems of a translated message ([] when fine or untranslated)."""
    if not is_translated(message):
        return []
    return placeholder_problems(source_text(message), message_forms(message))


# --- coverage -------------------------------------------------------------------------------

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


# --- the locales/ directory -----------------------------------------------------------------

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
        return _read(self.template_path, None)

    def read(self, language: str) -> Catalog:
        """The catalogue of ``language`` (an empty one if its .po does not exist yet)."""
        path = self.po_path(language)
        if not path.exists():
            return _new_catalogue(language)
        return _read(path, language)

    def write(self, language: str, catalogue: Catalog) -> bool:
        """Write ``catalogue`` as the .po of ``language``; False when the file was unchanged."""
        return _write_if_changed(self.po_path(language), catalogue)

    # commands -------------------------------------------------------------------------------

    def extract(self) -> int:
        """Scan ``bot/`` for marked strings and write ``locales/messages.pot``.

        Returns the number of messages. The file is rewritten only when messages changed, so
        running it twice gives no diff.
        """
        method_map, options_map = self._mapping()
        template = _Catalogue(project=_PROJECT, version="interface", copyright_holder=_PROJECT,
                              msgid_bugs_address="", fuzzy=False,
                              header_comment=_HEADER_COMMENT)
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
        old = _read(self.template_path, None) if self.template_path.exists() else None
        if old is not None and _render(old, True) == _render(template, True):
            return len(template)  # same messages: keep the file and its creation date
        _write(self.template_path, template)
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
                _normalize_plural(message, catalogue.num_plurals)
                message.flags.discard("fuzzy")
                if language == DEFAULT_LANGUAGE and not is_translated(message):
                    message.string = _french_source_forms(message, catalogue.num_plurals)
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
                _atomic_write(path, data)
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


def source_label(message: Message) -> str:
    """The French source of ``message`` quoted for error messages."""
    text = message.id if isinstance(message.id, str) else message.id[0]
    return f"«{text if len(text) <= 60 else text[:57] + '...'}»"


def compile_catalogue(catalogue: Catalog) -> tuple[bytes, int, list[str]]:
    """The .mo bytes of ``catalogue``, the number of messages kept, and the problems found.

    Only complete, placeholder-safe translations go into the .mo; the rest fall back to
    French at run time.
    """
    kept = _Catalogue(locale=catalogue.locale_identifier, fuzzy=False)
    kept.mime_headers = catalogue.mime_headers
    problems = []
    for message in catalogue:
        if not message.id or not is_translated(message):
            continue
        found = message_problems(message)
        if found:
            problems += [f"{catalogue.locale_identifier}: {source_label(message)}: {problem}"
                         for problem in found]
            continue
        kept.add(message.id, message.string, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, kept, use_fuzzy=True)
    return buffer.getvalue(), len(kept), problems


# --- helpers --------------------------------------------------------------------------------

def _new_catalogue(language: str) -> Catalog:
    catalogue = _Catalogue(locale=language, project=_PROJECT, version="interface",
                           copyright_holder=_PROJECT, msgid_bugs_address="",
                           language_team=LANGUAGES[language], fuzzy=False,
                           header_comment=_HEADER_COMMENT.replace(
                               "Translations template", f"{LANGUAGES[language]} translations"))
    catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS[language])]
    return catalogue


def _read(path: Path, language: str | None) -> Catalog:
    catalogue = _Catalogue(locale=language, fuzzy=False)
    with path.open("rb") as fileobj:
        PoFileParser(catalogue, ignore_obsolete=False, abort_invalid=True).parse(fileobj)
    catalogue.fuzzy = False
    if language is not None:
        # Our table is the one source of truth for plural rules, whatever the file says.
        catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS[language])]
    return catalogue


def _render(catalogue: Catalog, stable_dates: bool = False) -> bytes:
    buffer = io.BytesIO()
    if stable_dates:
        saved = catalogue.creation_date
        catalogue.creation_date = _EPOCH
        try:
            write_po(buffer, catalogue, width=76, include_lineno=False)
        finally:
            catalogue.creation_date = saved
    else:
        write_po(buffer, catalogue, width=76, include_lineno=False)
    return buffer.getvalue()


def _write(path: Path, catalogue: Catalog) -> None:
    _atomic_write(path, _render(catalogue))


def _write_if_changed(path: Path, catalogue: Catalog) -> bool:
    data = _render(catalogue)
    if path.exists() and path.read_bytes() == data:
        return False
    _atomic_write(path, data)
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as fileobj:
            fileobj.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _normalize_plural(message: Message, num_plurals: int) -> None:
    """Give a plural message exactly ``num_plurals`` forms (extra forms only if non-empty)."""
    if isinstance(message.id, str):
        return
    forms = list(message_forms(message))
    if len(forms) < num_plurals:
        forms += [""] * (num_plurals - len(forms))
    elif len(forms) > num_plurals and not any(forms[num_plurals:]):
        forms = forms[:num_plurals]
    message.string = tuple(forms)


def _french_source_forms(message: Message, num_plurals: int) -> str | tuple[str, ...]:
    if isinstance(message.id, str):
        return message.id
    singular, plural = message.id[0], message.id[-1]
    return tuple([singular] + [plural] * (num_plurals - 1))


def iter_messages(catalogue: Catalog) -> Iterator[Message]:
    """The messages of ``catalogue`` without the header entry."""
    return (message for message in catalogue if message.id)


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
