"""Inbound: one Telegram update in, its effects in the database, replies out.

``handle_update`` runs in the database thread, inside the transaction that also
advances the stored update offset, so an update is applied exactly once even if the
bridge dies half-way. What must be said back in Telegram is returned as ``Reply``
objects (``telegram_bridge.updates``) and sent after the commit. Each kind of update
goes to its handler (operator_handlers, visitor_handlers, ticks); an operator
linking their account in a private chat is handled here.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import Message as TgMessage
from telegram import Update

from accounts import services as account_services
from accounts.exceptions import AccountError
from telegram_bridge import operator_handlers, services, ticks, visitor_handlers
from telegram_bridge.files import Download
from telegram_bridge.updates import Context, Outcome, Reply, parse_command

logger = logging.getLogger(__name__)


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
            operator_handlers.on_message(
                message, context=context, outcome=outcome, download=download
            )
    elif edited is not None and edited.chat.id == context.chat_id:
        operator_handlers.on_edit(edited, context=context)
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
    if visitor_handlers.on_private(
        message, context=context, outcome=outcome, download=download
    ):
        return
    text = (message.text or "").strip()
    command, argument = parse_command(message, context)
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
