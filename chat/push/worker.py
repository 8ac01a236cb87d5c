"""The push outbox's worker: claims due "push" rows, sends each thread's
notifications (pywebpush: VAPID, RFC 8291 encryption), marks the rows.

The shape of chat.email.worker: ``send_due`` is one pass in the caller's thread
(tests); ``start_worker`` runs passes as a task of a web process's event loop
(settings.SOHBET_PUSH_WORKER), database work through ``realtime.run_in_db``, the
HTTP exchanges on threads. A subscription the service says is gone (404/410) is
deleted; a 429/5xx or a network failure tries the row again with back-off (the
service's Retry-After when longer), given up after MAX_ATTEMPTS. A retry may push
again to a device that had it: the same tag replaces the notification there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.utils import timezone
from pywebpush import WebPushException, webpush

from chat import services as chat_services
from chat.background import PassLoop
from chat.email.worker import backoff
from chat.push import services
from chat.push.audience import Delivery, deliveries
from realtime import run_in_db

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120.0
POLL_SECONDS = 2.0
TIMEOUT_SECONDS = 10.0
TTL_SECONDS = 24 * 3600
GONE = frozenset({404, 410})

# The seam tests use: send one delivery, answer the HTTP status.
Sender = Callable[[Delivery], int]


def push(delivery: Delivery) -> int:
    """POST one notification; the push service's status (2xx: accepted)."""
    try:
        response = webpush(
            delivery.info.as_webpush(),
            data=delivery.payload,
            vapid_private_key=settings.SOHBET_VAPID_PRIVATE_KEY,
            vapid_claims={"sub": settings.SOHBET_VAPID_SUBJECT},
            timeout=TIMEOUT_SECONDS,
            ttl=TTL_SECONDS,
            headers={"Topic": delivery.topic, "Urgency": "high"},
        )
    except WebPushException as exc:
        if exc.response is None:
            raise
        retry_after = exc.retry_after
        status = int(exc.status_code or 0)
        if retry_after and retry_after.isdigit():
            raise Throttled(status, float(retry_after)) from None
        return status
    return int(getattr(response, "status_code", 201))


class Throttled(Exception):
    """The service said when to come back (Retry-After, seconds)."""

    def __init__(self, status: int, seconds: float) -> None:
        super().__init__(f"HTTP {status}, retry after {seconds:.0f} s")
        self.status = status
        self.seconds = seconds


@dataclass(slots=True)
class Outcome:
    sent: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wait: float = 0.0  # the longest Retry-After
    refused: bool = False  # 4xx other than gone/429: retrying will not help


def send_all(items: list[Delivery], send: Sender) -> Outcome:
    outcome = Outcome()
    for delivery in items:
        try:
            status = send(delivery)
        except Throttled as exc:
            status = exc.status
            outcome.wait = max(outcome.wait, exc.seconds)
        except (requests.RequestException, OSError, WebPushException) as exc:
            outcome.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        if 200 <= status < 300:
            outcome.sent.append(delivery.subscription_id)
        elif status in GONE:
            outcome.gone.append(delivery.subscription_id)
        else:
            outcome.errors.append(f"HTTP {status} from {_host(delivery)}")
            if 400 <= status < 500 and status != 429:
                outcome.refused = True
    return outcome


def _host(delivery: Delivery) -> str:
    return delivery.info.endpoint.split("/")[2]


def send_due(*, now: dt.datetime | None = None, send: Sender = push) -> int:
    """Send what is due (``now``: a test's clock); how many jobs were handled."""
    at = now or timezone.now()
    jobs = services.claim_push_jobs(now=at, claim_seconds=CLAIM_SECONDS)
    for job in jobs:
        try:
            items = deliveries(thread_id=job.thread_id, entry_ids=job.entry_ids)
            finish(job, send_all(items, send), at=at)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            failed(job, f"{type(exc).__name__}: {exc}", at=at)
    return len(jobs)


async def asend_due(*, now: dt.datetime | None = None) -> int:
    """``send_due`` from an event loop (the web process's task)."""
    at = now or timezone.now()
    jobs = await run_in_db(
        services.claim_push_jobs, now=at, claim_seconds=CLAIM_SECONDS
    )
    for job in jobs:
        try:
            items = await run_in_db(
                deliveries, thread_id=job.thread_id, entry_ids=job.entry_ids
            )
            outcome = await asyncio.to_thread(send_all, items, push)
            await run_in_db(finish, job, outcome, at=at)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded
            await run_in_db(failed, job, f"{type(exc).__name__}: {exc}", at=at)
    return len(jobs)


def finish(job: services.PushJob, outcome: Outcome, *, at: dt.datetime) -> None:
    """Mark the job's rows after its sends: done, or tried again later."""
    services.forget_subscriptions(subscription_ids=outcome.gone)
    services.note_sent(subscription_ids=outcome.sent)
    if outcome.errors or outcome.wait:
        error = "; ".join(outcome.errors) or f"retry after {outcome.wait:.0f} s"
        failed(job, error, at=at, wait=outcome.wait, for_good=outcome.refused)
        return
    if not outcome.sent:
        chat_services.skip_outbox(entry_ids=job.entry_ids, note="no one to notify")
        return
    chat_services.complete_outbox(entry_ids=job.entry_ids)
    logger.info("push: thread %s to %s devices", job.thread_id, len(outcome.sent))


def failed(
    job: services.PushJob,
    error: str,
    *,
    at: dt.datetime,
    wait: float = 0.0,
    for_good: bool = False,
) -> None:
    """Try the job again after a back-off from ``at``, or give it up."""
    attempts = job.attempts + 1
    if for_good or attempts >= MAX_ATTEMPTS:
        logger.warning("push %s given up: %s", list(job.entry_ids), error)
        chat_services.fail_outbox(entry_ids=job.entry_ids, error=error)
        return
    logger.info("push %s failed, retried later: %s", list(job.entry_ids), error)
    delay = (at - timezone.now()).total_seconds() + max(wait, backoff(attempts))
    for entry_id in job.entry_ids:
        chat_services.retry_outbox(entry_id=entry_id, error=error, delay_seconds=delay)


# The web process's task (chat.background): chatsite.asgi calls ``start_worker``.
_loop = PassLoop("sohbet-push", asend_due, POLL_SECONDS)
start_worker = _loop.start
