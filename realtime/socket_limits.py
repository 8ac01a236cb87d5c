"""How many sockets one client may hold open in this web process.

An open socket costs the process that holds it memory, a file descriptor and a share
of its event loop, so the caps count per process, in memory: nothing to ask on
connect, nothing left behind by a process that dies. A socket counts against its
client address (an IPv4 address, an IPv6 /64: ``realtime.clientip``), which a client
cannot cheaply renew, and against its browser session, so that one page cannot
open hundreds. With N web processes behind a balancer, an address holds at most N
times its cap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from realtime.clientip import get_scope_client_ip, rate_limit_key


@dataclass(frozen=True, slots=True)
class Claim:
    """The counts one open socket holds; given back by ``release``."""

    keys: tuple[str, ...]


_open: Counter[str] = Counter()


def claim(scope: dict[str, Any]) -> Claim | None:
    """Count a new socket against its address and session; None (and nothing
    counted) when either already holds its cap (SOHBET_WS_PER_ADDRESS,
    SOHBET_WS_PER_SESSION)."""
    wanted = [
        (
            f"address:{rate_limit_key(get_scope_client_ip(scope))}",
            settings.SOHBET_WS_PER_ADDRESS,
        ),
    ]
    session = scope.get("session")
    session_key = getattr(session, "session_key", None)
    if session_key:
        wanted.append((f"session:{session_key}", settings.SOHBET_WS_PER_SESSION))
    if any(_open[key] >= cap for key, cap in wanted):
        return None
    keys = tuple(key for key, _cap in wanted)
    _open.update(keys)
    return Claim(keys)


def release(claimed: Claim | None) -> None:
    """Give back what ``claim`` counted (nothing for None)."""
    if claimed is None:
        return
    for key in claimed.keys:
        _open[key] -= 1
        if _open[key] <= 0:
            del _open[key]
