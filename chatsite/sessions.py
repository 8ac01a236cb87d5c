"""Sohbet's session engine: Django's ``cached_db``, and a deleted session's sockets
are told.

Deleting a session (a sign-out's flush, a key rotated by ``cycle_key``, an explicit
``delete``) sends ``rights.changed`` to the sockets opened with it, in every web
process, after commit: they close and reconnect with whatever the browser holds now,
and are checked again. Sessions deleted behind the engine's back (a bulk delete in
the database) are found by the operator sockets' checks on each ping.
"""

from __future__ import annotations

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore

from chat import events


class SessionStore(CachedDbStore):
    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            events.broadcast_on_commit(
                events.session_group(key), {"type": events.RIGHTS_CHANGED}
            )
