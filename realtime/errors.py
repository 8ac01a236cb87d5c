"""The protocol's refusals: an ``error`` frame with a code and a translated detail."""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise


class ErrorCode(StrEnum):
    """Error codes of the WebSocket protocol (docs/protocol.md)."""

    INVALID = "invalid"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"


class FrameError(Exception):
    """A refusal the client is told of with an ``error`` frame; ``detail`` may be a
    lazy translation (rendered in the socket's language where it is sent)."""

    def __init__(
        self, code: ErrorCode, detail: str | Promise, *, client_id: str | None = None
    ):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id
