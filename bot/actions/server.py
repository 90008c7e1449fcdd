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
    endpoint.run("bot.actions", port=args.port, cors_origins=None)


if __name__ == "__main__":
    main()
