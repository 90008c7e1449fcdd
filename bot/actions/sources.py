"""The "Sources" choice: where an answer comes from and who reviewed it, in one short message.

Offered under every answer that has sources (choice id ``sources:<answer_id>``). The message
lists each source's title and where it can be read, then the review status and date. It is
kept within the WhatsApp interactive body limit: details are dropped before titles are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.content._schema import INTERACTIVE_BODY_MAX

if TYPE_CHECKING:  # pragma: no cover
    from bot.actions.dialogue import Talk
    from bot.content import Answer
    from bot.core.messages import Reply


def _date(iso: str | None) -> str:
    """2026-12-03 -> 03/12/2026 (how dates are written in the three countries)."""
    if not iso or len(iso) != 10:
        return iso or ""
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def sources_text(talk: Talk, answer: Answer, limit: int = INTERACTIVE_BODY_MAX) -> str:
    _ = talk._
    head = _("Sources de « {title} » :").format(title=answer.title(talk.lang))
    review = answer.review
    if review.status == "reviewed" and review.date:
        tail = _("Vérifié par {organisation} le {date}.").format(
            organisation=review.organisation, date=_date(review.date))
    else:
        tail = _("Pas encore vérifié par un partenaire ({organisation} doit le relire).").format(
            organisation=review.organisation)
        if answer.to_verify:
            tail += " " + _("Certaines informations sont à confirmer.")

    def build(detail: bool, count: int) -> str:
        lines = [head]
        for source in answer.sources[:count]:
            line = f"• {source.title}"
            if detail:
                where = source.link or source.document
                line += f" — {where}" if where and where not in source.title else ""
                line += " " + _("(lu le {date})").format(date=_date(source.read))
            lines.append(line)
        hidden = len(answer.sources) - count
        if hidden:
            lines.append(_("… et {count} autre(s).").format(count=hidden))
        return "\n".join(lines + ["", tail])

    for detail in (True, False):
        for count in range(len(answer.sources), 0, -1):
            text = build(detail, count)
            if len(text) <= limit:
                return text
    return build(False, 1)[:limit]


def show_sources(talk: Talk, answer_id: str) -> list[Reply]:
    from bot.core.messages import Choice

    try:
        answer = talk.content.answer(answer_id)
    except KeyError:
        return talk.misunderstood()
    if not answer.sources:
        return talk.show_answer(answer_id)
    back = Choice(f"answer:{answer.id}", answer.title(talk.lang))
    return [talk.reply(sources_text(talk, answer), [back])]
