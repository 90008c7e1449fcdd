"""Content: answers, menus and guides from content/, checked against the channels' limits.

    from bot.content import get_content
    c = get_content()
    c.answer_for("sell_gold", "GN").message("fr")

See docs/CONTENT.md for the file format and the partner workflow.
"""

from ._load import (
    ContentError,
    Problem,
    check_content,
    content_files,
    get_content,
    load_content,
    reload_content,
)
from ._model import (
    Answer,
    Choice,
    Contact,
    Content,
    Guide,
    GuideDocument,
    GuideOption,
    GuideStep,
    LocalStr,
    LocalText,
    Menu,
    MenuItem,
    Review,
    Source,
)
from ._schema import COUNTRIES, LANGUAGES

__all__ = [
    "Answer", "Choice", "Contact", "Content", "ContentError", "COUNTRIES", "Guide",
    "GuideDocument", "GuideOption", "GuideStep", "LANGUAGES", "LocalStr", "LocalText", "Menu",
    "MenuItem", "Problem", "Review", "Source", "check_content", "content_files", "get_content",
    "load_content", "reload_content",
]
