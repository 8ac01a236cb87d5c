"""Keeping people out (blocks) and spam control, as the sockets and views use it.

A socket loads what blocks it when it opens (``get_block_state``: the visitor's own
blocks and those of networks holding its address) and follows ``chat.block`` events
from then on (``BlockState``): nothing is asked of the database per message. The
visitor's address is remembered in the cache for a week, so that an operator can
block their network later (``remember_address``, ``network_of``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.exceptions import ChatError, ErrorCode
from chat.models import Block, Rating, Thread
from realtime.cache import async_redis, redis_url, sync_redis
from realtime.ratelimit import Rule

logger = logging.getLogger(__name__)

ADDRESS_KEPT = 7 * 24 * 3600  # seconds the cache keeps a visitor's last address
IPV4_NETWORK = 24
IPV6_NETWORK = 64


def unavailable(client_id: str | None = None) -> ChatError:
    """What a blocked visitor is told of anything they send: neutral, the same for a
    blocked visitor and a blocked network (docs/operators.md, "Blocking")."""
    return ChatError(
        ErrorCode.FORBIDDEN,
        _("This conversation is not available."),
        client_id=client_id,
    )


# --- Addresses --------------------------------------------------------------------


def network_of(address: str, *, whole_network: bool) -> str:
    """An address in CIDR form: itself (an IPv6 address: its /64, what one host is
    given), or with ``whole_network`` its /24 (IPv4) or /64 (IPv6). "" for text that
    is no address."""
    text = address.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address):
        prefix = IPV6_NETWORK
    else:
        prefix = IPV4_NETWORK if whole_network else 32
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def parse_network(text: str) -> str:
    """A network an owner typed (``203.0.113.7``, ``203.0.113.0/24``) in CIDR form;
    raises ValueError for anything else."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    return str(network)


def holds(network: str, address: str) -> bool:
    """Whether ``address`` is in ``network`` (CIDR); False for either malformed."""
    text = address.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.version == net.version and ip in net


def _address_key(visitor_id: int) -> str:
    return f"sohbet:visitor-address:{visitor_id}"


async def aremember_address(visitor_id: int, address: str) -> None:
    """Keep the visitor's address (from their socket) for an operator's network
    block, for ADDRESS_KEPT: in Redis with one round trip on the event loop (shared
    with the bridge), else in this process's cache. Never fails the socket."""
    if not address:
        return
    if not redis_url():
        cache.set(_address_key(visitor_id), address, ADDRESS_KEPT)
        return
    try:
        await async_redis().set(_address_key(visitor_id), address, ex=ADDRESS_KEPT)
    except Exception:
        logger.warning("visitor address not kept", exc_info=True)


def get_last_address(visitor_id: int) -> str:
    """The address the visitor's last socket came from, "" when not known."""
    if not redis_url():
        return str(cache.get(_address_key(visitor_id)) or "")
    try:
        value = sync_redis().get(_address_key(visitor_id))
    except Exception:
        logger.warning("visitor address not read", exc_info=True)
        return ""
    return value.decode() if isinstance(value, bytes) else str(value or "")


# --- Blocks -------------------------------------------------------------------------


@dataclass(slots=True)
class BlockState:
    """What blocks one socket: the ids of the active blocks of its visitor or of a
    network holding its address. Kept current by ``chat.block`` events."""

    visitor_id: int
    address: str
    blocks: set[int] = field(default_factory=set)
    silenced: bool = False  # the honeypot was filled: dropped without a word

    @property
    def blocked(self) -> bool:
        return bool(self.blocks)

    def apply(self, event: dict[str, Any]) -> None:
        """A block made or lifted (``chat.safety_events.block_events``)."""
        concerns = event.get("visitor") == self.visitor_id or (
            bool(event.get("network")) and holds(event["network"], self.address)
        )
        if not concerns:
            return
        if event["blocked"]:
            self.blocks.add(event["block"])
        else:
            self.blocks.discard(event["block"])


def get_block_state(*, visitor_id: int, address: str) -> BlockState:
    """The active blocks of a visitor and of the networks holding ``address``: one
    query (network blocks are few; each is compared here)."""
    rows = Block.objects.filter(lifted_at__isnull=True).filter(
        Q(visitor_id=visitor_id) | ~Q(network="")
    )
    state = BlockState(visitor_id, address)
    for block_id, blocked_visitor, network in rows.values_list(
        "pk", "visitor_id", "network"
    ):
        if blocked_visitor == visitor_id or (network and holds(network, address)):
            state.blocks.add(block_id)
    return state


def is_blocked(*, visitor_id: int | None, address: str) -> bool:
    """Whether a visitor (or, without one, an address) is kept out now (an upload)."""
    if visitor_id is None:
        return any(
            holds(network, address)
            for network in Block.objects.filter(lifted_at__isnull=True)
            .exclude(network="")
            .values_list("network", flat=True)
        )
    return get_block_state(visitor_id=visitor_id, address=address).blocked


def get_active_block(*, visitor_id: int) -> Block | None:
    """The visitor's newest active block, for operators."""
    return (
        Block.objects.filter(visitor_id=visitor_id, lifted_at__isnull=True)
        .select_related("blocked_by")
        .order_by("-created_at")
        .first()
    )


# --- Spam control -------------------------------------------------------------------


def new_thread_limits(address_key: str) -> list[tuple[str, Rule]]:
    """The counters a new conversation from this client network takes
    (``realtime.ratelimit.ahit_many``): its network's and the whole site's."""
    return [
        (
            f"new-thread:{address_key}",
            Rule.parse(settings.SOHBET_NEW_THREADS_PER_NETWORK),
        ),
        ("new-thread:site", Rule.parse(settings.SOHBET_NEW_THREADS_PER_SITE)),
    ]


def is_new_thread_limit(key: str) -> bool:
    """Whether a counter's key is one of ``new_thread_limits``."""
    return key.startswith("new-thread:")


def too_many_threads(client_id: str | None = None) -> ChatError:
    return ChatError(
        ErrorCode.RATE_LIMITED,
        _("Too many conversations were started. Please try again later."),
        client_id=client_id,
    )


# --- Ratings ------------------------------------------------------------------------


def get_current_rating(*, thread: Thread) -> Rating | None:
    """The rating of the thread's last closing (none while it is open)."""
    if thread.status != Thread.Status.CLOSED or thread.closed_at is None:
        return None
    return (
        Rating.objects.filter(thread=thread, created_at__gte=thread.closed_at)
        .order_by("-created_at")
        .first()
    )


def get_latest_rating(*, thread_id: int) -> Rating | None:
    """The thread's newest rating, whether it is open or closed now (operators)."""
    return Rating.objects.filter(thread_id=thread_id).order_by("-created_at").first()


def rating_payload(rating: Rating | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    until = rating.created_at + dt.timedelta(
        minutes=settings.SOHBET_RATING_CHANGE_MINUTES
    )
    return {
        "score": rating.score,
        "comment": rating.comment,
        "created": rating.created_at.isoformat().replace("+00:00", "Z"),
        "changeable_until": until.isoformat().replace("+00:00", "Z"),
    }


def block_payload(block: Block | None) -> dict[str, Any] | None:
    if block is None:
        return None
    by = block.blocked_by
    return {
        "reason": block.reason,
        "by": by.display_name if by is not None else "",
        "source": block.source,
        "network": block.network,
        "created": block.created_at.isoformat().replace("+00:00", "Z"),
    }


def get_thread_extra(*, thread_id: int, visitor_id: int) -> dict[str, Any]:
    """What operators see of a thread beside its messages: whether its visitor is
    blocked (why, by whom), and its latest rating. Two queries."""
    return {
        "thread": thread_id,
        "blocked": block_payload(get_active_block(visitor_id=visitor_id)),
        "rating": rating_payload(get_latest_rating(thread_id=thread_id)),
    }
