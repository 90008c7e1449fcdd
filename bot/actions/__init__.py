"""Rasa custom actions (run by `python -m rasa_sdk --actions bot.actions`) and the dialogue."""

from bot.actions import flows as _flows  # noqa: F401  (registers the multi-step flows)
from bot.actions.dispatch import ActionDispatch

__all__ = ["ActionDispatch"]
