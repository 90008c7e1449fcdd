"""The dialogue (`bot/actions/dialogue.py`) and its flows, run by the app for every turn
(bot/conversation.py); Rasa only reads typed text."""

from bot.actions import flows as _flows  # noqa: F401  (registers the multi-step flows)
