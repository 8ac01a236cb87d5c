"""Posting and editing messages: the one write path of a message.

``apost_message`` is how a socket posts: through this process's message writer
(``realtime.writer``: group commit), stored by ``chat.storage``. ``post_message`` and
``post_messages`` store at once through the ORM (the bridge, tests).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events
from chat.exceptions import ChatError, ErrorCode
from chat.models import Message
from chat.rules import NewMessage, Posted, PostOutcome
from chat.storage import STORE, store_posts
from realtime import send_on_commit, writer
from realtime.ratelimit import Rule


async def apost_message(
    post: NewMessage,
    *,
    limit: tuple[str, Rule],
    more: Sequence[tuple[str, Rule]] = (),
) -> PostOutcome:
    """Post with the next batch of this process's writer; the outcome once committed
    (a ``rate_limited`` refusal when the sender ``limit`` (key, rule), or one of
    ``more`` (a new conversation's: ``chat.safety.new_thread_limits``), is exceeded
    across every process). Raises a ``DatabaseError`` when it could not be stored.
    After commit the message goes to its thread's visitors and the operators."""
    return await writer.get_writer(STORE).post(post, limit, more=more)


def post_messages(*, posts: Sequence[NewMessage]) -> list[PostOutcome]:
    """Store a batch now, in one transaction, in order; one outcome per post
    (``chat.storage.store_posts``): a new message numbered in its thread, the stored
    one for a ``client_id`` stored before, or a ``not_found`` refusal."""
    return store_posts(posts)


def post_message(
    *,
    thread_id: int,
    client_id: uuid.UUID,
    body: str,
    author: str = Message.Author.VISITOR,
    operator_id: int | None = None,
    author_name: str = "",
    source: str = Message.Source.WEB,
    attachment_id: int | None = None,
) -> Posted:
    """Post one message now (``post_messages``); raises ChatError on refusal."""
    [outcome] = store_posts(
        [
            NewMessage(
                thread_id=thread_id,
                client_id=client_id,
                body=body,
                author=author,
                operator_id=operator_id,
                author_name=author_name,
                source=source,
                attachment_id=attachment_id,
            )
        ]
    )
    if isinstance(outcome, ChatError):
        raise outcome
    return outcome


@transaction.atomic
def edit_message(*, message_id: int, body: str) -> Message:
    """Replace a message's text (an operator edited it in Telegram).

    Broadcasts the updated message (with ``edited`` set) to the thread's visitor
    sockets and to the operators. Raises ChatError(not_found).
    """
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This message does not exist."))
    if message.body == body:
        return message
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    send_on_commit(*events.message_events([message]))
    return message
