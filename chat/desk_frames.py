"""The operators' desk frames (docs/protocol.md, "Labels and views"): parsed into
frozen dataclasses or refused with a ChatError (chat.frames dispatches here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from chat.desk_models import MAX_LABEL_NAME
from chat.exceptions import ChatError, ErrorCode

DESK_TYPES = frozenset({"views", "label.create", "thread.label"})
# The inbox's views (docs/operators.md; chat.desk.view_filter).
VIEWS = ("mine", "unassigned", "open", "waiting", "closed", "all")


@dataclass(frozen=True, slots=True)
class Views:
    """Ask for the views' counts and the labels."""


@dataclass(frozen=True, slots=True)
class LabelCreate:
    name: str
    colour: str
    thread: int | None  # put it on this conversation too


@dataclass(frozen=True, slots=True)
class ThreadLabel:
    thread: int
    label: int
    on: bool


def _optional_id(data: dict[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _id(data, key)


def _id(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**62:
        raise ChatError(
            ErrorCode.INVALID, _("“%(field)s” must be an id.") % {"field": key}
        )
    return value


def parse_desk_frame(
    kind: str, data: dict[str, Any]
) -> Views | LabelCreate | ThreadLabel:
    if kind == "views":
        return Views()
    if kind == "label.create":
        name, colour = data.get("name"), data.get("colour", "")
        if not isinstance(name, str) or not isinstance(colour, str):
            raise ChatError(ErrorCode.INVALID, _("“name” and “colour” must be text."))
        if len(name) > MAX_LABEL_NAME * 4:  # before the spaces are collapsed
            raise ChatError(ErrorCode.TOO_LONG, _("The label's name is too long."))
        return LabelCreate(
            name=name, colour=colour[:16], thread=_optional_id(data, "thread")
        )
    # kind == "thread.label"
    on = data.get("on")
    if not isinstance(on, bool):
        raise ChatError(ErrorCode.INVALID, _("“on” must be true or false."))
    return ThreadLabel(thread=_id(data, "thread"), label=_id(data, "label"), on=on)
