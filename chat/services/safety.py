"""Writes on blocks and ratings: block and unblock a visitor or a network, rate a
closed conversation. Each tells the sockets after commit (chat.safety_events)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat import safety
from chat.exceptions import ChatError, ErrorCode
from chat.models import Block, OutboxEntry, Rating, Thread, Visitor
from chat.safety_events import block_event, extra_event, rating_events
from realtime import send_on_commit

MAX_REASON = 300
MAX_COMMENT = 1000


def _tell(blocks: list[Block], *, blocked: bool) -> None:
    """After commit: the sockets a block concerns, and the operators (each thread
    of a blocked visitor)."""
    for block in blocks:
        send_on_commit(
            block_event(
                block=block.pk,
                visitor=block.visitor_id,
                network=block.network,
                blocked=blocked,
            )
        )
    visitors = {block.visitor_id for block in blocks if block.visitor_id is not None}
    threads = Thread.objects.filter(
        visitor_id__in=visitors, last_message__isnull=False
    ).values_list("pk", "visitor_id")
    for thread_id, visitor_id in threads:
        send_on_commit(
            extra_event(
                safety.get_thread_extra(thread_id=thread_id, visitor_id=visitor_id)
            )
        )


@transaction.atomic
def block_visitor(
    *,
    visitor_id: int,
    reason: str = "",
    by: User | None = None,
    source: str = Block.Source.ADMIN,
    network: bool = False,
) -> Block:
    """Keep a visitor out: nothing they send is stored from now on, on any of their
    sockets. With ``network``, also the /24 (IPv4) or /64 (IPv6) their last socket
    came from, when known (else ``Block.network`` stays empty). Blocking a blocked
    visitor again returns their block (with ``network``, unless it lacks one).
    Raises ChatError(not_found)."""
    visitor = Visitor.objects.select_for_update().filter(pk=visitor_id).first()
    if visitor is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This visitor does not exist."))
    cidr = ""
    if network:
        cidr = safety.network_of(
            safety.get_last_address(visitor_id), whole_network=True
        )
    existing = safety.get_active_block(visitor_id=visitor_id)
    if existing is not None and (not cidr or existing.network == cidr):
        return existing
    block = Block.objects.create(
        visitor=visitor,
        network=cidr,
        reason=" ".join(reason.split())[:MAX_REASON],
        blocked_by=by,
        source=source,
    )
    _tell([block], blocked=True)
    return block


@transaction.atomic
def block_network(*, network: str, reason: str = "", by: User | None = None) -> Block:
    """Keep an address or network (CIDR) out, whoever its visitors: sockets from it
    store nothing. Raises ChatError(invalid) for text that is no network."""
    try:
        cidr = safety.parse_network(network)
    except ValueError:
        raise ChatError(
            ErrorCode.INVALID, _("Enter an address or a network, e.g. 203.0.113.0/24.")
        ) from None
    block = Block.objects.create(
        network=cidr,
        reason=" ".join(reason.split())[:MAX_REASON],
        blocked_by=by,
        source=Block.Source.ADMIN,
    )
    _tell([block], blocked=True)
    return block


@transaction.atomic
def unblock_visitor(*, visitor_id: int, by: User | None = None) -> int:
    """Lift a visitor's blocks (and their networks'); how many were lifted."""
    blocks = list(
        Block.objects.select_for_update().filter(
            visitor_id=visitor_id, lifted_at__isnull=True
        )
    )
    return _lift(blocks, by)


@transaction.atomic
def lift_blocks(*, block_ids: list[int], by: User | None = None) -> int:
    """Lift these blocks (the admin's action); how many were active."""
    blocks = list(
        Block.objects.select_for_update().filter(
            pk__in=block_ids, lifted_at__isnull=True
        )
    )
    return _lift(blocks, by)


def _lift(blocks: list[Block], by: User | None) -> int:
    now = timezone.now()
    for block in blocks:
        block.lifted_at, block.lifted_by = now, by
    Block.objects.bulk_update(blocks, ["lifted_at", "lifted_by"])
    _tell(blocks, blocked=False)
    return len(blocks)


@transaction.atomic
def rate_thread(*, thread_id: int, score: int, comment: str = "") -> Rating:
    """The visitor's rating of their closed thread: one per closing, changeable for
    SOHBET_RATING_CHANGE_MINUTES. Tells the operators and the visitor's sockets,
    and queues it for the outbox channels (the operators' Telegram topic). Raises
    ChatError(forbidden) when ratings are off, the thread is open, or the rating
    can no longer be changed; ChatError(invalid) for a score outside 1-5."""
    if not settings.SOHBET_RATING:
        raise ChatError(ErrorCode.FORBIDDEN, _("Ratings are switched off."))
    if not 1 <= score <= 5:
        raise ChatError(ErrorCode.INVALID, _("A rating is from 1 to 5."))
    thread = Thread.objects.select_for_update().filter(pk=thread_id).first()
    if thread is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This conversation does not exist."))
    if thread.status != Thread.Status.CLOSED:
        raise ChatError(
            ErrorCode.FORBIDDEN, _("A conversation can be rated once it is closed.")
        )
    now = timezone.now()
    comment = comment.strip()[:MAX_COMMENT]
    rating = safety.get_current_rating(thread=thread)
    if rating is None:
        rating = Rating.objects.create(
            thread=thread, score=score, comment=comment, created_at=now, updated_at=now
        )
    else:
        window = dt.timedelta(minutes=settings.SOHBET_RATING_CHANGE_MINUTES)
        if now > rating.created_at + window:
            raise ChatError(
                ErrorCode.FORBIDDEN, _("This rating can no longer be changed.")
            )
        if (rating.score, rating.comment) == (score, comment):
            return rating
        rating.score, rating.comment, rating.updated_at = score, comment, now
        rating.save(update_fields=["score", "comment", "updated_at"])
    OutboxEntry.objects.bulk_create(
        OutboxEntry(channel=channel, kind=OutboxEntry.Kind.RATING, thread=thread)
        for channel in settings.SOHBET_OUTBOX_CHANNELS
    )
    payload = safety.rating_payload(rating) or {}
    extra = safety.get_thread_extra(thread_id=thread.pk, visitor_id=thread.visitor_id)
    send_on_commit(*rating_events(thread=thread.pk, rating=payload, extra=extra))
    return rating
