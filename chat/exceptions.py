"""The chat's refusals: protocol errors (``realtime.errors``) raised by its frames,
selectors and services."""

from __future__ import annotations

from realtime.errors import ErrorCode, FrameError

__all__ = ["ChatError", "ErrorCode"]


class ChatError(FrameError):
    """A refusal with a protocol code and a translated, human-readable detail."""
