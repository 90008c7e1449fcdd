"""The dialogue (`bot.actions.dialogue`) and its flows, run by the app for every turn
(bot/conversation.py); Rasa only reads typed text."""
