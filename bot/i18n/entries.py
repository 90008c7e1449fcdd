"""One catalogue entry: its placeholders (which a translation must keep), its translated
forms, and its review status (``# status: draft`` or ``# status: reviewed``)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from babel.messages.catalog import Message

DRAFT = "draft"
REVIEWED = "reviewed"
STATUSES = (DRAFT, REVIEWED)
_STATUS_PREFIX = "status:"

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


def source_label(message: Message) -> str:
    """The French source of ``message`` quoted for error messages."""
    text = message.id if isinstance(message.id, str) else message.id[0]
    return f"«{text if len(text) <= 60 else text[:57] + '...'}»"
