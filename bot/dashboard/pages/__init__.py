"""The dashboard's page groups, one module each; `bot/dashboard/web.py` routes them."""
