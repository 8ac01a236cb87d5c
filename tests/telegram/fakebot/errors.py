"""Telegram's error answers, in its words: ``{"ok": false, "error_code": ...,
"description": ..., "parameters": {"retry_after" | "migrate_to_chat_id": ...}}``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = self.parameters
        return payload


class TopicClosed(ValueError):
    """A member who is not an admin wrote in a closed topic: Telegram refuses it."""


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(400, MIGRATED, {"migrate_to_chat_id": new_chat_id})


def injected(
    status: int,
    *,
    retry_after: int | None = None,
    description: str | None = None,
    migrate_to_chat_id: int | None = None,
) -> ApiError:
    """The error a test asks for (``fail_next``), shaped as Telegram shapes it: a
    429 always carries ``retry_after`` (1 unless given)."""
    if status == 429:
        retry_after = 1 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
    if migrate_to_chat_id is not None:
        description = description or MIGRATED
    if description is None:
        try:
            description = HTTPStatus(status).phrase
        except ValueError:
            description = f"Error {status}"
    parameters: dict[str, Any] = {}
    if retry_after is not None:
        parameters["retry_after"] = retry_after
    if migrate_to_chat_id is not None:
        parameters["migrate_to_chat_id"] = migrate_to_chat_id
    return ApiError(status, description, parameters or None)
