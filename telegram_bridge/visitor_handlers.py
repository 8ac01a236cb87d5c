"""A visitor's private chat with the bot ("Continue in Telegram"), in the update's
transaction (``telegram_bridge.handlers``): ``/start v_<token>`` from the site's
link asks for their phone number (a ``request_contact`` button); their own contact
verifies it and links the chat; then what they write (text, photos, voice notes,
documents) joins their conversation as their messages. ``/stop`` ends it. Replies
are in the Telegram user's language (``language_code``: Turkish or English).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from telegram import Message as TgMessage

from chat import services as chat_services
from chat.exceptions import ChatError
from chat.models import Message
from chat.services import NewMessage
from chat.uploads import UploadRefused, clean_upload
from telegram_bridge import services, visitor_selectors, visitor_services
from telegram_bridge.files import Download
from telegram_bridge.models import MessageLink
from telegram_bridge.updates import (
    Context,
    Outcome,
    Reply,
    client_id_for,
    parse_command,
)

logger = logging.getLogger(__name__)

MAX_BODY = 4000
PER_MINUTE = 30  # messages a visitor's Telegram may add to the conversation


def language_of(language_code: str | None) -> str:
    return "tr" if (language_code or "").lower().startswith("tr") else "en"


def on_private(
    message: TgMessage, *, context: Context, outcome: Outcome, download: Download | None
) -> bool:
    """Handle a private message if it is a visitor's; False leaves it to operators'
    account linking."""
    user = message.from_user
    if user is None:
        return False
    command, argument = parse_command(message, context)
    starting = command == "start" and visitor_services.is_visitor_token(argument)
    if command == "start" and argument and not starting:
        return False  # an operator's link, even from someone who is also a visitor
    chat = visitor_selectors.get_chat_of_user(telegram_user_id=user.id)
    if not starting and chat is None:
        return False
    with translation.override(language_of(user.language_code)):
        say = _Say(message.chat.id, outcome)
        if starting:
            _start(argument, user.id, user.language_code or "", say)
        elif command == "stop":
            visitor_services.stop_chat(telegram_user_id=user.id)
            say(
                _(
                    "Done: this chat no longer receives the conversation. You can "
                    "continue it on the website at any time."
                ),
                remove_keyboard=True,
            )
        elif message.contact is not None:
            _contact(message, user.id, say)
        elif chat is not None and chat.verified_at is None:
            _ask_for_contact(say)
        elif chat is not None and command in ("start", "help"):
            say(_connected())
        elif chat is not None:
            _post(message, chat.visitor_id, say, download)
    return True


class _Say:
    def __init__(self, chat_id: int, outcome: Outcome) -> None:
        self.chat_id = chat_id
        self.outcome = outcome

    def __call__(
        self,
        text: str,
        *,
        contact_button: str | None = None,
        remove_keyboard: bool = False,
    ) -> None:
        self.outcome.replies.append(
            Reply(
                self.chat_id,
                text,
                silent=False,
                contact_button=contact_button,
                remove_keyboard=remove_keyboard,
            )
        )


def _start(token: str, user_id: int, language_code: str, say: _Say) -> None:
    try:
        visitor_services.start_chat(
            token=token, telegram_user_id=user_id, language_code=language_code
        )
    except visitor_services.VisitorLinkRefused as refused:
        say(str(refused))
        return
    _ask_for_contact(say)


def _ask_for_contact(say: _Say) -> None:
    say(
        _(
            "To continue your conversation here, please share your phone number "
            "with the button below. The team will see it as verified."
        ),
        contact_button=_("Share my phone number"),
    )


def _connected() -> str:
    return _(
        "You are connected: the team's replies reach you here while the website "
        "is closed, and what you write here joins your conversation. Send /stop "
        "to end it."
    )


def _contact(message: TgMessage, user_id: int, say: _Say) -> None:
    contact = message.contact
    if contact is None:  # pragma: no cover - the caller checked
        return
    accepted = visitor_services.accept_contact(
        telegram_user_id=user_id,
        contact_user_id=contact.user_id,
        phone=contact.phone_number or "",
    )
    if accepted is None:
        say(
            _(
                "Please share your own phone number, with the button below (not "
                "someone else's contact)."
            ),
            contact_button=_("Share my phone number"),
        )
        return
    say(
        _("Thank you, your phone number is verified.") + " " + _connected(),
        remove_keyboard=True,
    )


def _post(
    message: TgMessage, visitor_id: int, say: _Say, download: Download | None
) -> None:
    """What the visitor wrote, as their message in their newest conversation."""
    thread = visitor_selectors.latest_thread(visitor_id=visitor_id)
    if thread is None:
        return
    if visitor_selectors.count_recent_messages(visitor_id=visitor_id) >= PER_MINUTE:
        # Said once a minute at most; the messages beyond are not kept.
        if cache.add(f"telegram_bridge:too-fast:{visitor_id}", 1, timeout=60):
            say(_("You are writing too fast. Please wait a minute and send it again."))
        return
    body = (message.text or message.caption or "")[:MAX_BODY]
    attachment_id = None
    if message.effective_attachment is not None:
        attachment_id = _store(download, thread.pk)
        if attachment_id is None:
            say(
                _(
                    "This file could not be passed on (photos, voice notes, audio "
                    "and documents up to 20 MB are). Please send it on the website."
                )
            )
    if not body.strip() and attachment_id is None:
        return
    posted = chat_services.post_messages(
        posts=[
            NewMessage(
                thread_id=thread.pk,
                client_id=client_id_for(message.chat.id, message.message_id),
                body=body,
                author=Message.Author.VISITOR,
                author_name="",
                source=Message.Source.TELEGRAM,
                attachment_id=attachment_id,
            )
        ]
    )[0]
    if isinstance(posted, ChatError):
        say(str(posted.detail))
        return
    services.link_messages(
        chat_id=message.chat.id,
        telegram_message_ids=[message.message_id],
        thread_id=thread.pk,
        message_ids=[posted.message.pk],
        direction=MessageLink.Direction.IN,
    )


def _store(download: Download | None, thread_id: int) -> int | None:
    if download is None or download.content is None:
        return None
    try:
        cleaned = clean_upload(download.content, name=download.name)
    except UploadRefused:
        return None
    attachment = chat_services.store_attachment(
        thread_id=thread_id,
        uploaded_by=Message.Author.VISITOR,
        operator_id=None,
        cleaned=cleaned,
    )
    return attachment.pk
