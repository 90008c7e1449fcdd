"""The delivery pipeline behind `bot.core.gateway.Gateway`, one job per module.

- `intake`: store an inbound message (deduplicated, private input read in process) and its
  contact before the channel's webhook is answered;
- `inbox`: the inbox worker (leases, fair claiming with `ready.ReadyContacts`, the turn, its
  completion, failures, the acknowledgement while Rasa is away);
- `outbox`: the outbox worker (`Sender`, `SendError`, `Sent`, backoff; one sending task per
  contact, claims, held replies, delivery receipts);
- `media_files`: the bookkeeping of files the channels download;
- `housekeeping`: leases of dead workers, partner notifications, erasures, retention (a task
  of its own, started by the app);
- `shared`: what these parts of one process share (wake-ups, caches, the "settled" event);
- `statements`: the hot path's SQL, built once.

docs/DESIGN.md ("Delivery guarantees") is the specification.
"""
