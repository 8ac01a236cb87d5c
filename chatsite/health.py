"""The checks behind ``/health/``: each one uses a dependency for real and reports, in
a few fields safe to publish, whether it works.

A check returns ``{"ok": bool, ...measurements}``. It never returns exception text,
which may name hosts or carry a DSN: a failure is one short fixed word (``error``),
and the exception goes to the log. ``get_report`` runs them all and keeps the result
in this process's memory for ``SOHBET_HEALTH_CACHE_SECONDS`` (not in the shared
cache, which is one of the things checked), so polling stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from realtime.logs import redact

logger = logging.getLogger(__name__)

CheckResult = dict[str, Any]

# The words a failing check reports.
UNREACHABLE = "unreachable"  # the call raised
UNAVAILABLE = "unavailable"  # what was written did not read back
TIMEOUT = "timeout"
MISMATCH = "mismatch"
NOT_CONFIGURED = "not_configured"
LOW = "low"
NO_HEARTBEAT = "no_heartbeat"
STALE = "stale"

MB = 1024 * 1024
LAST_ERROR_LENGTH = 200
# Where memory headroom is read (module attributes, so that tests can point them at
# files of their own): cgroup v2 limits first (a container's /proc/meminfo shows the
# host), then /proc/meminfo.
CGROUP_DIR = Path("/sys/fs/cgroup")
MEMINFO_PATH = Path("/proc/meminfo")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


# --- Checks ---------------------------------------------------------------------------


def check_database() -> CheckResult:
    """A real ``SELECT 1`` on the default database, with its latency."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "latency_ms": _ms(started)}


def check_channel_layer() -> CheckResult:
    """A message sent to a fresh channel of the layer and received back (the Redis
    layer goes through Redis; the in-memory one through this process)."""
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": NOT_CONFIGURED}
    nonce = uuid.uuid4().hex
    started = time.perf_counter()
    try:
        received = async_to_sync(_layer_round_trip)(
            layer, nonce=nonce, timeout=settings.SOHBET_HEALTH_TIMEOUT
        )
    except TimeoutError:
        return {"ok": False, "error": TIMEOUT}
    if not received:
        return {"ok": False, "error": MISMATCH}
    return {"ok": True, "latency_ms": _ms(started)}


async def _layer_round_trip(layer: Any, *, nonce: str, timeout: float) -> bool:
    return await asyncio.wait_for(_send_and_receive(layer, nonce=nonce), timeout)


async def _send_and_receive(layer: Any, *, nonce: str) -> bool:
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    try:
        await layer.send(channel, {"type": "health.ping", "nonce": nonce})
        message = await receiving
    finally:
        await _leave_channel(layer, channel, receiving)
    return bool(message.get("nonce") == nonce)


async def _leave_channel(
    layer: Any, channel: str, receiving: asyncio.Future[Any]
) -> None:
    # A layer forgets a channel when a receive on it is cancelled (what Channels does
    # when a consumer stops): the Redis layer unsubscribes then. After a successful
    # receive it stays subscribed, so one more receive is started and cancelled.
    if not receiving.done():
        receiving.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await receiving
        return
    if receiving.cancelled() or receiving.exception() is not None:
        return
    extra = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # let it start waiting, so that cancelling it cleans up
    extra.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await extra


def check_cache() -> CheckResult:
    """Set, get and delete a random key in the default cache. A cache that hides
    Redis errors (reads miss, writes are dropped) fails as ``unavailable``."""
    key = f"health:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    started = time.perf_counter()
    cache.set(key, value, timeout=30)
    stored = cache.get(key)
    cache.delete(key)
    if stored != value:
        return {"ok": False, "error": UNAVAILABLE}
    return {"ok": True, "latency_ms": _ms(started)}


def check_storage() -> CheckResult:
    """Save a tiny file through the default storage (media) and delete it."""
    started = time.perf_counter()
    name = default_storage.save(f"health-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)
    return {"ok": True, "latency_ms": _ms(started)}


def check_disk() -> CheckResult:
    """Free space on the filesystem of MEDIA_ROOT against
    SOHBET_HEALTH_MIN_FREE_DISK_MB."""
    path = Path(settings.MEDIA_ROOT).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent  # MEDIA_ROOT is created on the first upload
    free = shutil.disk_usage(path).free
    minimum = settings.SOHBET_HEALTH_MIN_FREE_DISK_MB * MB
    result: CheckResult = {
        "ok": free >= minimum,
        "free_mb": free // MB,
        "min_free_mb": settings.SOHBET_HEALTH_MIN_FREE_DISK_MB,
    }
    if not result["ok"]:
        result["error"] = LOW
    return result


def check_memory() -> CheckResult:
    """Memory available to this process (its cgroup's limit when it has one, else the
    machine's MemAvailable) against SOHBET_HEALTH_MIN_FREE_MEMORY_MB. Skipped, not
    failed, where neither can be read."""
    available = _cgroup_available_bytes()
    if available is None:
        available = _meminfo_available_bytes()
    if available is None:
        return {"ok": True, "skipped": True}
    minimum = settings.SOHBET_HEALTH_MIN_FREE_MEMORY_MB * MB
    result: CheckResult = {
        "ok": available >= minimum,
        "available_mb": available // MB,
        "min_available_mb": settings.SOHBET_HEALTH_MIN_FREE_MEMORY_MB,
    }
    if not result["ok"]:
        result["error"] = LOW
    return result


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cgroup_available_bytes() -> int | None:
    limit = _read(CGROUP_DIR / "memory.max")
    current = _read(CGROUP_DIR / "memory.current")
    if limit is None or current is None or limit.strip() == "max":
        return None
    try:
        used = int(current)
        stat = _read(CGROUP_DIR / "memory.stat") or ""
        found = re.search(r"^inactive_file (\d+)$", stat, re.MULTILINE)
        reclaimable = int(found.group(1)) if found else 0
        return max(0, int(limit) - used + reclaimable)
    except ValueError:
        return None


def _meminfo_available_bytes() -> int | None:
    found = re.search(r"^MemAvailable:\s+(\d+) kB$", _read(MEMINFO_PATH) or "", re.M)
    return int(found.group(1)) * 1024 if found else None


def check_telegram() -> CheckResult:
    """The bridge's heartbeat age (failing when older than
    SOHBET_HEALTH_TELEGRAM_MAX_AGE seconds, or absent), its last error, and the
    Telegram outbox: pending deliveries and the age of the oldest."""
    from telegram_bridge.selectors import get_health

    now = timezone.now()
    bridge = get_health()
    heartbeat_age = _age(now, bridge.heartbeat_at)
    result: CheckResult = {
        "ok": heartbeat_age is not None
        and heartbeat_age <= settings.SOHBET_HEALTH_TELEGRAM_MAX_AGE,
        "heartbeat_age_seconds": heartbeat_age,
        "outbox_backlog": bridge.backlog,
        "oldest_pending_age_seconds": _age(now, bridge.oldest_pending_at),
    }
    if bridge.last_error:
        result["last_error"] = public_error_text(bridge.last_error)
        result["last_error_age_seconds"] = _age(now, bridge.last_error_at)
    if not result["ok"]:
        result["error"] = NO_HEARTBEAT if heartbeat_age is None else STALE
    return result


def _age(now: Any, then: Any) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+")


def public_error_text(text: str) -> str:
    """An error text fit for the public health body: without tokens or URLs (a Bot
    API URL names the server and carries the token), at most 200 characters."""
    cleaned = _URL.sub("[url]", redact(text))
    return " ".join(cleaned.split())[:LAST_ERROR_LENGTH]


# --- The report -----------------------------------------------------------------------


def list_checks() -> dict[str, Callable[[], CheckResult]]:
    """The checks to run, by name: Telegram's only when the bridge is configured."""
    checks: dict[str, Callable[[], CheckResult]] = {
        "database": check_database,
        "channel_layer": check_channel_layer,
        "cache": check_cache,
        "storage": check_storage,
        "disk": check_disk,
        "memory": check_memory,
    }
    if settings.TELEGRAM_ENABLED:
        checks["telegram"] = check_telegram
    return checks


def _run(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    try:
        return check()
    except TimeoutError:
        logger.warning("health check %s timed out", name)
        return {"ok": False, "error": TIMEOUT}
    except Exception as exc:
        logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
        return {"ok": False, "error": UNREACHABLE}


def run_checks() -> tuple[int, dict[str, Any]]:
    """Run every check now. Returns (HTTP status, body): 200 when every required
    check passed (all but SOHBET_HEALTH_OPTIONAL_CHECKS), else 503 with the failing
    required checks named in ``failing``."""
    results = {name: _run(name, check) for name, check in list_checks().items()}
    optional = set(settings.SOHBET_HEALTH_OPTIONAL_CHECKS)
    failing = [
        name
        for name, result in results.items()
        if not result["ok"] and name not in optional
    ]
    body: dict[str, Any] = {
        "status": "fail" if failing else "ok",
        "version": settings.SOHBET_VERSION,
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "checks": results,
    }
    if failing:
        body["failing"] = failing
    return (503 if failing else 200), body


@dataclass(frozen=True, slots=True)
class _Cached:
    computed_at: float
    status: int
    body: dict[str, Any]


_cached: _Cached | None = None
_lock = threading.Lock()


def get_report() -> tuple[int, dict[str, Any]]:
    """``run_checks``, at most once per SOHBET_HEALTH_CACHE_SECONDS in this process;
    concurrent polls wait for the one computing it."""
    global _cached
    ttl = settings.SOHBET_HEALTH_CACHE_SECONDS
    with _lock:
        now = time.monotonic()
        if _cached is None or ttl <= 0 or now - _cached.computed_at >= ttl:
            status, body = run_checks()
            _cached = _Cached(computed_at=time.monotonic(), status=status, body=body)
        return _cached.status, _cached.body


def reset_report() -> None:
    """Forget the kept report (tests; a settings change)."""
    global _cached
    with _lock:
        _cached = None
