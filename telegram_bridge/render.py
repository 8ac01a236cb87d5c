"""The text the bridge posts in Telegram: plain text, never interpreted as markup,
within Telegram's lengths (counted in UTF-16 code units, as Telegram counts)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from chat.models import Message, Thread

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOPIC_NAME_LIMIT = 128


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at Telegram's limit, preferring line breaks, then spaces."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = len(rest)
        while utf16_len(rest[:cut]) > limit:
            cut = max(1, cut * limit // max(utf16_len(rest[:cut]), 1) - 1)
        window = rest[:cut]
        for separator in ("\n", " "):
            at = window.rfind(separator)
            if at > cut // 2:
                cut = at + 1
                break
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def header(thread: Thread) -> str:
    """What says which conversation a message of a plain group belongs to."""
    return f"💬 {thread.visitor.display_name} · #{thread.pk}"


def render_message(message: Message, thread: Thread, *, is_forum: bool) -> str:
    """The Telegram text of one chat message."""
    if message.author == Message.Author.OPERATOR:
        head = _("🧑‍💼 %(operator)s (web)") % {"operator": message.author_name}
        if not is_forum:
            head += " → " + f"{thread.visitor.display_name} · #{thread.pk}"
        return f"{head}\n{message.body}"
    if message.author == Message.Author.SYSTEM:
        return f"ℹ️ {message.body}"
    if is_forum:
        return message.body
    return f"{header(thread)}\n{message.body}".strip()


def render_combined(
    messages: Sequence[Message], thread: Thread, *, is_forum: bool
) -> str:
    """Several chat messages of one thread as one Telegram message (what waited
    while the group's budget refilled), one line each, with who wrote it."""
    lines = [] if is_forum else [header(thread)]
    for message in messages:
        if message.author == Message.Author.OPERATOR:
            who = _("%(operator)s (web)") % {"operator": message.author_name}
        elif message.author == Message.Author.SYSTEM:
            who = "ℹ️"
        else:
            who = thread.visitor.display_name
        lines.append(f"• {who}: {message.body}")
    return "\n".join(lines)


def combined_length(messages: Sequence[Message], thread: Thread) -> int:
    """An upper bound of ``render_combined``'s length (for filling a message)."""
    return utf16_len(render_combined(messages, thread, is_forum=False))


def topic_name(thread: Thread) -> str:
    return f"{thread.visitor.display_name} · #{thread.pk}"[:TOPIC_NAME_LIMIT]
