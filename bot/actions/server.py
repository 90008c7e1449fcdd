"""Start the rasa-sdk action server bound to a chosen host (rasa-sdk's CLI binds 0.0.0.0).

    python -m bot.actions.server --port 5055 [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the action server for Rasa")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    args = parser.parse_args()
    os.environ["SANIC_HOST"] = args.host  # read by rasa_sdk.endpoint.run

    from rasa_sdk import endpoint

    from bot.logging_setup import configure_logging

    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    _warm_up_search()
    endpoint.run("bot.actions", port=args.port, cors_origins=None)


def _warm_up_search() -> None:
    """Build the content search index in the background (about a second), so that the first
    misunderstood message does not wait for it."""
    import logging
    import threading

    def build() -> None:
        try:
            from bot.content import get_content
            from bot.content.search import index_for

            index_for(get_content())
        except Exception:  # the dialogue builds it on first use instead
            logging.getLogger(__name__).exception("actions: content search warm-up failed")

    threading.Thread(target=build, name="search-warm-up", daemon=True).start()


if __name__ == "__main__":
    main()
