"""The operators' group, in the update's transaction (``telegram_bridge.handlers``):
a linked operator's message answers the visitor of its thread (its topic, or the
visitor's message it replies to), with the file it carries; an edit edits that
message; a ``/command`` goes to ``telegram_bridge.commands``, ``/r`` to
commands_canned."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from telegram import Message as TgMessage

from accounts import selectors as account_selectors
from chat import services as chat_services
from chat.exceptions import ChatError
from chat.models import Message, Thread
from chat.services import NewMessage
from chat.uploads import UploadRefused, clean_upload
from telegram_bridge import selectors, services, ticks
from telegram_bridge.commands import on_command
from telegram_bridge.commands_canned import run_canned_command
from telegram_bridge.files import Download
from telegram_bridge.models import MessageLink
from telegram_bridge.updates import (
    Context,
    Outcome,
    Reply,
    client_id_for,
    parse_command,
)


def on_message(
    message: TgMessage, *, context: Context, outcome: Outcome, download: Download | None
) -> None:
    user = message.from_user
    if user is None or user.is_bot or message.sender_chat is not None:
        return  # the bot's own messages, channel posts, anonymous admins
    if not _has_content(message):
        return  # service messages: topic created/closed/renamed, pins, joins…
    topic = message.message_thread_id if message.is_topic_message else None
    operator = account_selectors.get_operator_by_telegram_id(telegram_user_id=user.id)
    if operator is None:
        outcome.replies.append(
            Reply(
                context.chat_id,
                _(
                    "Only linked operators can answer visitors. Link your account "
                    "from your Telegram page in the Sohbet admin; this message was "
                    "not sent."
                ),
                message_thread_id=topic,
                reply_to=message.message_id,
            )
        )
        return

    command, argument = parse_command(message, context)
    thread = _thread_of(message, context=context)
    if command == "r":  # a canned reply (commands_canned.py)
        outcome.replies.append(
            Reply(
                context.chat_id,
                run_canned_command(
                    argument,
                    thread=thread,
                    operator=operator,
                    client_id=client_id_for(message.chat.id, message.message_id),
                    is_forum=context.is_forum,
                ),
                topic,
                message.message_id,
            )
        )
        return
    if command is not None:
        on_command(
            command,
            message,
            thread,
            operator,
            context=context,
            outcome=outcome,
            argument=argument,
        )
        return
    if thread is None:
        outcome.replies.append(
            Reply(
                context.chat_id,
                (
                    _("Write in a conversation's topic to answer its visitor.")
                    if context.is_forum
                    else _("Reply to a visitor's message to answer them.")
                ),
                message_thread_id=topic,
                reply_to=message.message_id,
            )
        )
        return
    body = message.text or message.caption or ""
    attachment_id = None
    if message.effective_attachment is not None:
        problem, attachment_id = _store_download(download, thread, operator)
        if problem:
            outcome.replies.append(
                Reply(context.chat_id, problem, topic, message.message_id)
            )
            if not body.strip():
                return
    if not body.strip() and attachment_id is None:
        return
    outcome_post = chat_services.post_messages(
        posts=[
            NewMessage(
                thread_id=thread.pk,
                client_id=client_id_for(message.chat.id, message.message_id),
                body=body[:4000],
                author=Message.Author.OPERATOR,
                operator_id=operator.pk,
                author_name=operator.display_name,
                source=Message.Source.TELEGRAM,
                attachment_id=attachment_id,
            )
        ]
    )[0]
    if isinstance(outcome_post, ChatError):
        outcome.replies.append(
            Reply(context.chat_id, str(outcome_post.detail), topic, message.message_id)
        )
        return
    services.link_messages(
        chat_id=message.chat.id,
        telegram_message_ids=[message.message_id],
        thread_id=thread.pk,
        message_ids=[outcome_post.message.pk],
        direction=MessageLink.Direction.IN,
    )
    ticks.answered(thread_id=thread.pk, message_id=outcome_post.message.pk)


def _store_download(
    download: Download | None, thread: Thread, operator: Any
) -> tuple[str | None, int | None]:
    """Keep a file an operator sent in Telegram as an attachment of the thread.

    Returns (a note for the operator, None) when it cannot be relayed.
    """
    if download is None or download.content is None:
        return (
            download.problem
            if download and download.problem
            else _("This file could not be relayed."),
            None,
        )
    try:
        cleaned = clean_upload(download.content, name=download.name)
    except UploadRefused as refused:
        return refused.detail, None
    attachment = chat_services.store_attachment(
        thread_id=thread.pk,
        uploaded_by=Message.Author.OPERATOR,
        operator_id=operator.pk,
        cleaned=cleaned,
    )
    return None, attachment.pk


def on_edit(message: TgMessage, *, context: Context) -> None:
    link = selectors.get_link(
        chat_id=message.chat.id, telegram_message_id=message.message_id
    )
    if (
        link is None
        or link.message_id is None
        or link.direction != MessageLink.Direction.IN
    ):
        return
    body = message.text or message.caption or ""
    if body.strip():
        chat_services.edit_message(message_id=link.message_id, body=body[:4000])


def _thread_of(message: TgMessage, *, context: Context) -> Thread | None:
    if message.is_topic_message and message.message_thread_id:
        thread = selectors.get_thread_for_topic(
            chat_id=message.chat.id, message_thread_id=message.message_thread_id
        )
        if thread is not None:
            return thread
    replied = message.reply_to_message
    if replied is not None:
        link = selectors.get_link(
            chat_id=message.chat.id, telegram_message_id=replied.message_id
        )
        if link is not None:
            return link.thread
    return None


def _has_content(message: TgMessage) -> bool:
    return bool(message.text or message.caption or message.effective_attachment)
