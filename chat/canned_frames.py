"""The operators' frames about canned replies (docs/protocol.md, "Canned replies"),
parsed as chat.frames parses the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode

CANNED_TYPES = frozenset({"canned.list", "canned.attach"})


@dataclass(frozen=True, slots=True)
class CannedList:
    pass


@dataclass(frozen=True, slots=True)
class CannedAttach:
    thread: int
    canned: int


def _id(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**62:
        raise ChatError(
            ErrorCode.INVALID, _("“%(field)s” must be a whole number.") % {"field": key}
        )
    return value


def parse_canned_frame(kind: str, data: dict[str, Any]) -> CannedList | CannedAttach:
    if kind == "canned.list":
        return CannedList()
    return CannedAttach(thread=_id(data, "thread"), canned=_id(data, "canned"))
