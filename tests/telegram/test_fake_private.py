"""The fake Bot API's private chats and reactions, as Telegram has them: a reply
keyboard's ``request_contact`` button only in a private chat, inline keyboards not
faked, contacts and reactions as updates, and ``message_reaction`` only for a bot
that asked for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from tests.telegram.fakebot import OPERATOR_CHAT_ID, FakeBotApi, FloodRules

USER = 6660001
pytestmark = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)
CONTACT = ReplyKeyboardMarkup([[KeyboardButton("Share", request_contact=True)]])


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi(flood=FloodRules.off()) as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url
    ) as bot:
        yield bot


async def test_a_contact_button_is_shown_in_a_private_chat_only(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.push_update(fake.private_text(USER, "hi"))
    await bot.send_message(USER, "Share your number", reply_markup=CONTACT)
    shown = fake.keyboard(USER)
    assert shown is not None
    assert shown["keyboard"][0][0] == {"text": "Share", "request_contact": True}
    with pytest.raises(BadRequest, match="private chats only"):
        await bot.send_message(OPERATOR_CHAT_ID, "no", reply_markup=CONTACT)
    with pytest.raises(BadRequest, match="not implemented by the fake"):
        await bot.send_message(
            USER,
            "inline",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("a", url="https://example.com")]]
            ),
        )
    await bot.send_message(USER, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert fake.keyboard(USER) is None


async def test_contacts_and_reactions_arrive_as_telegram_sends_them(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.push_update(
        fake.private_contact(USER, phone="+905551112233", contact_user_id=USER)
    )
    fake.push_update(fake.private_contact(USER, phone="+1555", contact_user_id=None))
    fake.push_update(fake.operator_text("visitor's message", user_id=500100200))
    posted = await bot.send_message(OPERATOR_CHAT_ID, "bridged")
    fake.push_update(fake.reaction(posted.message_id, "👍", user_id=500100200))

    # Not asked for: no reaction (Telegram's default leaves them out).
    updates = await bot.get_updates(timeout=0)
    assert [
        u.message.contact.user_id for u in updates if u.message and u.message.contact
    ] == [USER, None]
    assert not any(u.message_reaction for u in updates)

    asked = await bot.get_updates(
        timeout=0, allowed_updates=["message", "message_reaction"]
    )
    [reaction] = [u.message_reaction for u in asked if u.message_reaction]
    assert (reaction.message_id, reaction.user.id) == (posted.message_id, 500100200)
    assert reaction.new_reaction[0].emoji == "👍"

    fake.set_bot_member("member")
    with pytest.raises(ValueError, match="administrator"):
        fake.reaction(posted.message_id, "👍", user_id=500100200)
