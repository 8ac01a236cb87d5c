"""``/r`` in the operators' group: ``/r shortcut`` in a conversation's topic sends that
canned reply (placeholders filled, its file copied) as the operator's message, by
the operator message path; ``/r`` alone lists the operator's shortcuts."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils.translation import gettext as _

from chat import canned
from chat import services as chat_services
from chat.exceptions import ChatError
from chat.models import Message, Thread
from chat.services import NewMessage
from chat.services.canned import copy_canned_file

MAX_LIST_CHARS = 3500  # a Telegram message holds 4096


def run_canned_command(
    argument: str,
    *,
    thread: Thread | None,
    operator: Any,
    client_id: uuid.UUID,
    is_forum: bool,
) -> str:
    """Do what ``/r <argument>`` asks; returns what to say back in the chat."""
    shortcut = argument.split()[0].lstrip("/") if argument.strip() else ""
    if not shortcut:
        return list_text(operator)
    if thread is None:
        return (
            _("Use this command in a conversation's topic.")
            if is_forum
            else _("Use this command as a reply to a visitor's message.")
        )
    reply = canned.get_canned_reply_by_shortcut(user_id=operator.pk, shortcut=shortcut)
    if reply is None:
        return _("There is no saved reply “%(shortcut)s”. Send /r to list them.") % {
            "shortcut": shortcut
        }
    body = canned.fill(
        reply.body,
        {
            "visitor_name": thread.visitor.name,
            "operator_name": operator.display_name,
            "team_name": canned.team_name(reply.language),
        },
    )
    attachment_id = None
    try:
        if reply.file:
            attachment_id = copy_canned_file(
                reply=reply, thread_id=thread.pk, user_id=operator.pk
            ).pk
        outcome = chat_services.post_messages(
            posts=[
                NewMessage(
                    thread_id=thread.pk,
                    client_id=client_id,
                    body=body,
                    author=Message.Author.OPERATOR,
                    operator_id=operator.pk,
                    author_name=operator.display_name,
                    # Written here: not sent back to the topic by the outbox.
                    source=Message.Source.TELEGRAM,
                    attachment_id=attachment_id,
                )
            ]
        )[0]
    except ChatError as refused:
        return str(refused.detail)
    if isinstance(outcome, ChatError):
        return str(outcome.detail)
    sent = _("Sent /%(shortcut)s:") % {"shortcut": reply.shortcut}
    if reply.file:
        sent += " " + _("(with the file %(name)s)") % {"name": reply.file_name}
    return f"{sent}\n{body}"


def list_text(operator: Any) -> str:
    """The operator's shortcuts and the shared ones, one a line."""
    replies = canned.list_canned_replies_for_operator(user_id=operator.pk)
    if not replies:
        return _("There are no saved replies yet. Add them in the Sohbet admin.")
    lines = [_("Saved replies (send /r shortcut in a conversation's topic):")]
    seen: set[str] = set()
    for reply in replies:
        if reply.shortcut.lower() in seen:
            continue  # an own reply hides a shared one of the same shortcut
        seen.add(reply.shortcut.lower())
        line = f"/r {reply.shortcut} — {reply.title}"
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_LIST_CHARS:
            lines.append("…")
            break
        lines.append(line)
    return "\n".join(lines)
