"""A fake Telegram Bot API on 127.0.0.1 for the bridge's tests, with only what the
bridge and ``accounts.telegram`` call. python-telegram-bot reaches it over real
HTTP (``base_url``), so nothing is patched, and it enforces Telegram's rules with
Telegram's error shapes: flood control (``flood``), closed topics, the bot's
membership, upgraded groups, the file server's limits.

Tests play the people in the chat (``operator_text``... then ``push_update``),
break it (``fail_next``, ``delay_next``, ``set_bot_member``, ``migrate_chat``),
and observe it (``calls``, ``sent_messages``, ``topics``, ``wait_for``: never sleep).
"""

from tests.telegram.fakebot.api import DEFAULT_TOKEN, FakeBotApi
from tests.telegram.fakebot.errors import TopicClosed
from tests.telegram.fakebot.flood import TELEGRAM, FloodRules, Window
from tests.telegram.fakebot.state import (
    BOT_ID,
    BOT_USERNAME,
    OPERATOR_CHAT_ID,
    OPERATOR_USER_ID,
    Call,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "Call",
    "DEFAULT_TOKEN",
    "FakeBotApi",
    "FloodRules",
    "OPERATOR_CHAT_ID",
    "OPERATOR_USER_ID",
    "TELEGRAM",
    "TopicClosed",
    "Window",
]
