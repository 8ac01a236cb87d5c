"""Reads for private notes (chat.Note): a thread's notes, who a note mentions."""

from __future__ import annotations

import re

from django.db.models import Q

from accounts.models import User
from chat.models import Note

# The notes an inbox loads with a conversation (the newest; older ones stay in the
# admin): a bound on what one frame may ask for.
NOTES_LOADED = 200
# Names looked up per note: a note naming more does not cost more queries.
MAX_MENTIONS = 20
# "@ayse", "@ayse.k", "@Ayşe": a word after an "@" that no word character precedes
# (an email address is no mention).
MENTION = re.compile(r"(?<![\w@])@([\w][\w.\-]{0,149})")


def mentioned_names(body: str) -> list[str]:
    """The names after "@" in ``body``, lower-cased, first ones first, at most
    MAX_MENTIONS. A plain function: no database."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-").casefold()
        if name and name not in names:
            names.append(name)
            if len(names) == MAX_MENTIONS:
                break
    return names


def list_mentioned_operators(*, body: str) -> list[User]:
    """The active operators ``body`` mentions: by username, or by first name when
    exactly one operator has it. Unknown names are left out. One query."""
    names = mentioned_names(body)
    if not names:
        return []
    wanted = Q()
    for name in names:
        wanted |= Q(username__iexact=name) | Q(first_name__iexact=name)
    candidates = list(User.objects.filter(wanted, is_staff=True, is_active=True))
    found: dict[int, User] = {}
    for name in names:
        by_username = [u for u in candidates if u.username.casefold() == name]
        by_first = [u for u in candidates if u.first_name.casefold() == name]
        for user in by_username or (by_first if len(by_first) == 1 else []):
            found.setdefault(user.pk, user)
    return list(found.values())


def list_mentionable() -> list[dict[str, object]]:
    """Active operators as a note's "@" suggests them: id, name, username."""
    return [
        {"id": u.pk, "name": u.display_name, "username": u.username}
        for u in User.objects.filter(is_staff=True, is_active=True).order_by("username")
    ]


def list_notes(*, thread_id: int, limit: int = NOTES_LOADED) -> list[Note]:
    """A thread's newest notes, oldest first, with their mentions' ids loaded."""
    notes = list(
        Note.objects.filter(thread_id=thread_id)
        .prefetch_related("mentions")
        .order_by("-pk")[:limit]
    )
    notes.reverse()
    return notes


def get_operator_by_name(*, name: str) -> User | None:
    """An active operator by username (or a first name only one has), for a
    transfer named in text (``/transfer @ayse``); None when there is none."""
    users = list_mentioned_operators(body="@" + name.lstrip("@"))
    return users[0] if users else None
