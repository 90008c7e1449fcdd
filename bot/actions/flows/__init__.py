"""Multi-step flows. Each module registers itself with `bot.actions.dialogue.register_flow`."""

from bot.actions.flows import group_guide  # noqa: F401
from bot.actions.flows import delete, protection, report, status, talk  # noqa: F401
from bot.actions.flows import disclosure  # noqa: F401  (the safety net's offer)
