"""``/note text`` and ``/transfer @username note`` in a conversation's topic (or as
a reply in a plain group): a private note, never sent to the visitor; a transfer
to another operator with a note. Called by ``commands.on_command``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from chat import services as chat_services
from chat.exceptions import ChatError
from chat.models import Note, Thread
from chat.notes import get_operator_by_name

COMMANDS = ("note", "transfer")


def help_lines() -> list[str]:
    return [
        _("/note text — a private note: operators only, never sent to the visitor"),
        _("/transfer @username note — assign this conversation to a colleague"),
    ]


def handle(
    command: str,
    argument: str,
    thread: Thread | None,
    operator: Any,
    *,
    reply: Callable[[str], None],
    client_id: Any,
) -> None:
    """Apply ``/note`` or ``/transfer``; what must be said goes through ``reply``."""
    if thread is None:
        reply(_("Use this command in a conversation's topic."))
        return
    try:
        if command == "note":
            if not argument:
                reply(_("Write the note after the command: /note text"))
                return
            chat_services.add_note(
                thread_id=thread.pk,
                author=operator,
                body=argument,
                client_id=client_id,
                source=Note.Source.TELEGRAM,
            )
            reply(_("🔒 Private note saved: operators only."))
            return
        name, _sep, text = argument.partition(" ")
        target = get_operator_by_name(name=name) if name.startswith("@") else None
        if target is None:
            reply(_("Name an operator: /transfer @username note"))
            return
        chat_services.transfer_thread(
            thread_id=thread.pk,
            by=operator,
            operator_id=target.pk,
            text=text,
            source=Note.Source.TELEGRAM,
        )
        reply(
            _("Conversation #%(id)s transferred to %(name)s.")
            % {"id": thread.pk, "name": target.display_name}
        )
    except ChatError as exc:
        reply(str(exc.detail))
