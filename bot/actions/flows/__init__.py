"""Multi-step flows. Each module registers itself with `bot.actions.dialogue.register_flow`."""

from bot.actions.flows import (  # noqa: F401
    delete,
    disclosure,  # noqa: F401  (the safety net's offer)
    group_guide,  # noqa: F401
    protection,
    report,
    status,
    talk,
)
