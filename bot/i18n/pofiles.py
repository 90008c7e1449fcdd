"""Reading, writing and compiling the .po/.pot/.mo files with Babel.

Babel only knows CLDR locales, and Maninka (emk) and Soninke (snk) are not in CLDR: for them
``Catalog.locale`` is None and Babel would drop the ``Plural-Forms`` header. ``Catalogue``
always writes the rule from ``PLURAL_FORMS``.
"""

from __future__ import annotations

import datetime
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileParser, write_po

from bot.i18n.entries import is_translated, message_forms, message_problems, source_label
from bot.i18n.languages import LANGUAGES, PLURAL_FORMS

PROJECT = "orpaillage-assistant"
# Stands in for the .pot creation date when comparing old and new templates.
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
HEADER_COMMENT = """\
# Translations template for the orpaillage assistant.
# Edit translations through the spreadsheet workflow described in docs/TRANSLATING.md.
# Each translated entry carries "# status: draft" or "# status: reviewed".
#"""


class Catalogue(Catalog):
    """A Babel catalogue that keeps ``Plural-Forms`` even when Babel does not know the locale."""

    def _get_mime_headers(self) -> list[tuple[str, str]]:
        headers = super()._get_mime_headers()
        if self.locale is None and self._num_plurals is not None:
            names = [name for name, _ in headers]
            position = names.index("Language-Team") + 1
            headers.insert(position, ("Plural-Forms", self.plural_forms))
        return headers

    mime_headers = property(_get_mime_headers, Catalog._set_mime_headers)


def compile_catalogue(catalogue: Catalog) -> tuple[bytes, int, list[str]]:
    """The .mo bytes of ``catalogue``, the number of messages kept, and the problems found.

    Only complete, placeholder-safe translations go into the .mo; the rest fall back to
    French at run time.
    """
    kept = Catalogue(locale=catalogue.locale_identifier, fuzzy=False)
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


def new_catalogue(language: str) -> Catalog:
    catalogue = Catalogue(locale=language, project=PROJECT, version="interface",
                           copyright_holder=PROJECT, msgid_bugs_address="",
                           language_team=LANGUAGES[language], fuzzy=False,
                           header_comment=HEADER_COMMENT.replace(
                               "Translations template", f"{LANGUAGES[language]} translations"))
    catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS[language])]
    return catalogue


def read_catalogue(path: Path, language: str | None) -> Catalog:
    catalogue = Catalogue(locale=language, fuzzy=False)
    with path.open("rb") as fileobj:
        PoFileParser(catalogue, ignore_obsolete=False, abort_invalid=True).parse(fileobj)
    catalogue.fuzzy = False
    if language is not None:
        # Our table is the one source of truth for plural rules, whatever the file says.
        catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS[language])]
    return catalogue


def render_catalogue(catalogue: Catalog, stable_dates: bool = False) -> bytes:
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


def write_catalogue(path: Path, catalogue: Catalog) -> None:
    atomic_write(path, render_catalogue(catalogue))


def write_if_changed(path: Path, catalogue: Catalog) -> bool:
    data = render_catalogue(catalogue)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
    return True


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as fileobj:
            fileobj.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def normalize_plural(message: Message, num_plurals: int) -> None:
    """Give a plural message exactly ``num_plurals`` forms (extra forms only if non-empty)."""
    if isinstance(message.id, str):
        return
    forms = list(message_forms(message))
    if len(forms) < num_plurals:
        forms += [""] * (num_plurals - len(forms))
    elif len(forms) > num_plurals and not any(forms[num_plurals:]):
        forms = forms[:num_plurals]
    message.string = tuple(forms)


def french_source_forms(message: Message, num_plurals: int) -> str | tuple[str, ...]:
    if isinstance(message.id, str):
        return message.id
    singular, plural = message.id[0], message.id[-1]
    return tuple([singular] + [plural] * (num_plurals - 1))


def iter_messages(catalogue: Catalog) -> Iterator[Message]:
    """The messages of ``catalogue`` without the header entry."""
    return (message for message in catalogue if message.id)
