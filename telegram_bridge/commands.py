"""An operator's ``/command`` in the operators' group, in a conversation's topic (or
as a reply in a plain group): ``/online``, ``/away``, ``/close``, ``/reopen``,
``/info`` and ``/help`` here; those of a part go to its module (commands_labels,
commands_notes, safety). ``/r`` goes to commands_canned before this."""

from __future__ import annotations

from django.utils.translation import gettext as _
from telegram import Message as TgMessage

from chat import services as chat_services
from chat.models import Thread
from telegram_bridge import commands_notes, safety
from telegram_bridge.commands_labels import LABEL_COMMANDS, label_command
from telegram_bridge.info import info_text
from telegram_bridge.updates import (
    Context,
    Outcome,
    Reply,
    client_id_for,
    parse_command,
)

COMMANDS = (
    *("close", "reopen", "info", "online", "away", "help", "r"),
    *LABEL_COMMANDS,
    *safety.COMMANDS,
)


def on_command(
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
            parse_command(message, context)[1],
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
