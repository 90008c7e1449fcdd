"""Multi-step flows. Each module registers itself with `bot.actions.dialogue.register_flow`."""

from bot.actions.flows import group_guide  # noqa: F401
