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


class ChatError(Exception):
    """A refusal with a protocol code and a translated, human-readable detail."""

    def __init__(
        self, code: ErrorCode, detail: str | Promise, *, client_id: str | None = None
    ):
        super().__init__(detail)
        self.code = code
        self.detail = detail  # a lazy translation is rendered where it is sent
        self.client_id = client_id
