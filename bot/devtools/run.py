"""`make run`: start Rasa's NLU server and the app on loopback; Ctrl-C stops them both.

The app answers at once; Rasa takes about a minute to load. Buttons and menus work
meanwhile; typed messages are kept in the inbox and answered as soon as Rasa is up. The web
chat runs open, on loopback only (`WEB_CHAT_OPEN`, set by the stack): any client names its
sender, as `curl` examples do. The children die with this runner whatever stops it (a second
Ctrl-C, a SIGKILL: bot.devtools.stack.spawn).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from bot.devtools.stack import Stack


def main() -> None:
    if os.environ.get("DEMO_USERS", "").strip().lower() in ("1", "true", "yes", "on") \
            and not os.environ.get("DEMO_PASSWORD"):
        # Demo accounts are never made with a default password (docs/DASHBOARD.md).
        print("run: DEMO_USERS=1 needs DEMO_PASSWORD=<password>; not starting",
              file=sys.stderr)
        sys.exit(2)
    stack = Stack.create()

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    # Explicit handlers: a shell that starts `make run` in the background ignores SIGINT, and
    # Python then would not raise KeyboardInterrupt.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    started = time.monotonic()
    stack.start()
    try:
        stack.wait_app(60)
        print(f"\n  Assistant: open {stack.app_url}/  (web chat)\n"
              f"  Partners:  {stack.app_url}/dashboard/  (dashboard)\n"
              f"  API:       curl -s {stack.app_url}/api/chat -H 'Content-Type: application/json'"
              f" -d '{{\"sender\":\"t1\",\"text\":\"Bonjour\"}}'\n"
              f"  Logs:      {stack.workdir / 'logs'}/{{app,rasa}}.log\n"
              f"  Rasa is loading its model (about a minute): buttons work meanwhile, typed"
              f" messages are kept and answered when it is up. Ctrl-C stops everything.\n",
              flush=True)
        stack.wait_rasa(300)
        print(f"  Rasa is up after {time.monotonic() - started:.0f} s "
              f"(port {stack.rasa_port}).", flush=True)
        while True:
            for name, process in list(stack.processes.items()):
                if process.poll() is not None:
                    print(f"run: {name} exited ({process.returncode}); stopping. "
                          f"See {stack.workdir / 'logs' / (name + '.log')}", file=sys.stderr)
                    return
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        print(f"run: {exc}", file=sys.stderr)
    finally:
        print("run: stopping...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
