"""The realtime engine, and the plumbing under the apps.

Domain code reaches the engine through this door only:

- ``send_on_commit(*events)``: send events once the transaction commits (the verb);
- ``send_now(*events)``: send events that change no row (typing, presence);
- ``run_in_db(function, ...)``: run database work from async code, its events sent
  after;
- ``subscribe(*groups)``: hear groups' events outside a socket (the bridge).

Sockets subclass ``realtime.consumer.SocketConsumer``; the message path's batches go
through ``realtime.writer``. docs/architecture.md has the map.
"""

from realtime.db import run_in_db
from realtime.delivery import Event, send_now, send_on_commit
from realtime.hub import subscribe

__all__ = ["Event", "run_in_db", "send_now", "send_on_commit", "subscribe"]
