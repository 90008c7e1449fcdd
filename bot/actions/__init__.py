"""The dialogue (`bot.actions.dialogue`), its flows, and the Rasa custom action that runs it
(`python -m rasa_sdk --actions bot.actions`)."""

from bot.actions.dispatch import ActionDispatch

__all__ = ["ActionDispatch"]
