"""Reads of canned replies (chat.models.CannedReply) and their placeholders.

An operator uses their own replies and the shared ones; an own reply's shortcut wins
over a shared one's. ``fill`` is the rule the inbox's client follows too
(static/chat/inbox/canned.js): keep the two alike.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from chat.appearance import LANGUAGES, get_appearance_values
from chat.exceptions import ChatError, ErrorCode
from chat.models import CannedReply

MAX_LISTED = 500
PLACEHOLDERS = ("visitor_name", "operator_name", "team_name")
OWN_FIRST = F("owner_id").asc(nulls_last=True)  # shared replies have no owner


def list_canned_replies_for_operator(*, user_id: int) -> list[CannedReply]:
    """The operator's own replies and the shared ones, by shortcut (own first when
    a shortcut is both): at most MAX_LISTED."""
    replies = visible_canned_replies(user_id=user_id).order_by("shortcut", OWN_FIRST)
    return list(replies[:MAX_LISTED])


def get_canned_reply_for_operator(*, user_id: int, reply_id: int) -> CannedReply:
    """One reply the operator may use. Raises ChatError(not_found)."""
    reply = visible_canned_replies(user_id=user_id).filter(pk=reply_id).first()
    if reply is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This saved reply does not exist."))
    return reply


def get_canned_reply_by_shortcut(*, user_id: int, shortcut: str) -> CannedReply | None:
    """The reply ``/shortcut`` means to this operator (case ignored): their own
    before a shared one."""
    return (
        visible_canned_replies(user_id=user_id)
        .filter(shortcut__iexact=shortcut.lstrip("/"))
        .order_by(OWN_FIRST)
        .first()
        if shortcut.strip("/")
        else None
    )


def visible_canned_replies(*, user_id: int) -> QuerySet[CannedReply]:
    return CannedReply.objects.filter(Q(owner_id=user_id) | Q(owner__isnull=True))


def team_name(language: str) -> str:
    """The team's name as the appearance gives it in ``language`` (the default
    language's when it is not one of them), else SOHBET_SITE_NAME."""
    values = get_appearance_values()
    lang = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    return values[f"team_name_{lang}"] or settings.SOHBET_SITE_NAME


def canned_payload(reply: CannedReply) -> dict[str, Any]:
    """The wire form of a reply for the inbox (docs/protocol.md, ``canned``)."""
    return {
        "id": reply.pk,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "body": reply.body,
        "language": reply.language,
        "shared": reply.is_shared,
        "team_name": team_name(reply.language),
        "file": (
            {"name": reply.file_name, "size": reply.file_size, "kind": reply.file_kind}
            if reply.file
            else None
        ),
    }


_PLACEHOLDER = re.compile(r"[ \t]*\{(" + "|".join(PLACEHOLDERS) + r")\}")


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its placeholders replaced. One without a value goes away with
    the spaces before it, and a comma after it when it began a line ("Hi
    {visitor_name}, …" becomes "Hi, …"); an unknown one is left as it is."""
    emptied = False

    def replace(match: re.Match[str]) -> str:
        nonlocal emptied
        value = (values.get(match[1]) or "").strip()
        if not value:
            emptied = True
            return ""
        return match[0][: match[0].index("{")] + value

    filled = _PLACEHOLDER.sub(replace, text)
    if emptied:
        filled = _LINE_START_COMMA.sub("", filled)
    return filled.strip()


_LINE_START_COMMA = re.compile(r"(?m)^[,;:][ \t]*")
