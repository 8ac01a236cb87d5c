"""Inbound: one Telegram update in, its effects in the database, replies out.

``handle_update`` runs in the database thread, inside the transaction that also
advances the stored update offset, so an update is applied exactly once even if the
bridge dies half-way. What must be said back in Telegram is returned as ``Reply``
objects and sent after the commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import Message as TgMessage
from telegram import MessageEntity, Update

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.exceptions import AccountError
from chat import services as chat_services
from chat.exceptions import ChatError
from chat.models import Message, Thread
from chat.services import NewMessage
from chat.uploads import UploadRefused, clean_upload
from telegram_bridge import commands_notes, safety, selectors, services, ticks
from telegram_bridge.commands_canned import run_canned_command
from telegram_bridge.commands_labels import LABEL_COMMANDS, label_command
from telegram_bridge.files import Download
from telegram_bridge.info import info_text
from telegram_bridge.models import MessageLink

logger = logging.getLogger(__name__)

# client_id of a message that came from Telegram: the same Telegram message always
# maps to the same chat message, whatever happens to the bridge.
TELEGRAM_NAMESPACE = uuid.UUID("6f0f5a0e-3c55-4d7e-9a43-1b5a3c1e2f70")

COMMANDS = (
    *("close", "reopen", "info", "online", "away", "help", "r"),
    *LABEL_COMMANDS,
    *safety.COMMANDS,
)


@dataclass(frozen=True, slots=True)
class Reply:
    chat_id: int
    text: str
    message_thread_id: int | None = None
    reply_to: int | None = None
    silent: bool = True
    # A private chat's reply keyboard: one button asking for the user's own contact
    # (its label), or the keyboard taken away.
    contact_button: str | None = None
    remove_keyboard: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    owner: str
    chat_id: int
    is_forum: bool
    bot_id: int
    bot_username: str


@dataclass(slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)


def client_id_for(chat_id: int, message_id: int) -> uuid.UUID:
    return uuid.uuid5(TELEGRAM_NAMESPACE, f"{chat_id}:{message_id}")


@transaction.atomic
def handle_update(
    update: Update, *, context: Context, download: Download | None = None
) -> Outcome:
    """Apply one update and advance the stored offset past it, atomically."""
    outcome = Outcome()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _dispatch(update, context=context, outcome=outcome, download=download)
    finally:
        services.advance_offset(owner=context.owner, update_id=update.update_id)
    return outcome


def _dispatch(
    update: Update, *, context: Context, outcome: Outcome, download: Download | None
) -> None:
    message = update.message
    edited = update.edited_message
    if message is not None:
        if message.chat.type == "private":
            _on_private(message, context=context, outcome=outcome, download=download)
        elif message.chat.id == context.chat_id:
            _on_operator_chat(
                message, context=context, outcome=outcome, download=download
            )
    elif edited is not None and edited.chat.id == context.chat_id:
        _on_edit(edited, context=context)
    elif update.message_reaction is not None:
        ticks.on_reaction(update.message_reaction, chat_id=context.chat_id)


# --- Private chat with the bot: account linking ---------------------------------------


def _on_private(
    message: TgMessage, *, context: Context, outcome: Outcome, download: Download | None
) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    # A visitor's own chat ("Continue in Telegram") first; then operators' linking.
    from telegram_bridge import visitor_handlers

    if visitor_handlers.on_private(
        message, context=context, outcome=outcome, download=download
    ):
        return
    text = (message.text or "").strip()
    command, argument = _command(message, context)
    if command == "start" and argument:
        try:
            operator = account_services.link_telegram(
                token=argument,
                telegram_user_id=user.id,
                telegram_username=user.username or "",
            )
        except AccountError as exc:  # the refusal carries a translated message
            logger.info("telegram link refused: %s", type(exc).__name__)
            outcome.replies.append(Reply(message.chat.id, str(exc)))
            return
        outcome.replies.append(
            Reply(
                message.chat.id,
                _(
                    "Linked: you answer visitors as %(name)s. Messages you write in "
                    "the operator group now reach them."
                )
                % {"name": operator.display_name},
            )
        )
        return
    if text:
        outcome.replies.append(
            Reply(
                message.chat.id,
                _(
                    "Hello! I bridge the website chat with the operators' group. To "
                    "link your operator account, open the link from your Telegram page "
                    "in the Sohbet admin."
                ),
            )
        )


# --- The operator chat ----------------------------------------------------------------


def _on_operator_chat(
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

    command, argument = _command(message, context)
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
        _on_command(
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


def _on_edit(message: TgMessage, *, context: Context) -> None:
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


def _command(message: TgMessage, context: Context) -> tuple[str | None, str]:
    text = message.text or ""
    entities = message.entities or ()
    if not text.startswith("/") or not any(
        e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities
    ):
        return None, ""
    head, _sep, argument = text.partition(" ")
    name, _at, target = head[1:].partition("@")
    if target and target.lower() != context.bot_username.lower():
        return None, ""  # a command for another bot
    return name.lower(), argument.strip()


def _on_command(
    command: str,
    message: TgMessage,
    thread: Thread | None,
    operator: object,
    *,
    context: Context,
    outcome: Outcome,
    argument: str = "",
) -> None:
    topic = message.message_thread_id if message.is_topic_message else None

    def reply(text: str) -> None:
        outcome.replies.append(Reply(context.chat_id, text, topic, message.message_id))

    if command in ("online", "away"):
        # The one away switch, shared with the web inbox (chat.services).
        away = command == "away"
        chat_services.set_operator_away(
            user_id=getattr(operator, "pk", 0), away=away, telegram_online=not away
        )
        if away:
            reply(_("You are away."))
        else:
            reply(_("You are online: visitors see that an operator is available."))
        return
    if command in commands_notes.COMMANDS:
        commands_notes.handle(
            command,
            _command(message, context)[1],
            thread,
            operator,
            reply=reply,
            client_id=client_id_for(message.chat.id, message.message_id),
        )
        return
    if command not in COMMANDS or command == "help":
        reply(help_text(context))
        return
    if thread is None:
        reply(
            _("Use this command in a conversation's topic.")
            if context.is_forum
            else _("Use this command as a reply to a visitor's message.")
        )
        return
    # The change itself is the one notice: the outbox closes or reopens the topic
    # (in a plain group it posts one line), whoever made it.
    if command == "close":
        if thread.status == Thread.Status.CLOSED:
            reply(_("Conversation #%(id)s is already closed.") % {"id": thread.pk})
        else:
            chat_services.close_thread(thread_id=thread.pk)
    elif command == "reopen":
        if thread.status == Thread.Status.OPEN:
            reply(_("Conversation #%(id)s is already open.") % {"id": thread.pk})
        else:
            chat_services.reopen_thread(thread_id=thread.pk)
    elif command == "info":
        reply(info_text(thread))
    elif command in LABEL_COMMANDS:
        operator_id = getattr(operator, "pk", None)
        reply(label_command(command, argument, thread=thread, operator_id=operator_id))
    elif command in safety.COMMANDS:
        reply(safety.run_command(command, argument, thread=thread, operator=operator))


def help_text(context: Context) -> str:
    where = (
        _("Write in a visitor's topic to answer them.")
        if context.is_forum
        else _("Reply to a visitor's message to answer them.")
    )
    return "\n".join(
        [
            where,
            _("/close — close this conversation"),
            _("/reopen — reopen it"),
            _("/info — who the visitor is"),
            _("/r shortcut — send a saved reply; /r alone lists them"),
            _("/label name — put a label on this conversation (/unlabel name: off)"),
            _("/online — tell visitors an operator is available"),
            _("/away — stop saying so"),
            *safety.help_lines(),
            *commands_notes.help_lines(),
            _("/help — this list"),
        ]
    )
