"""The web process's own small Bot API client: login codes and the bot's username.

Signing in must not depend on the bridge process, so the web process calls the Bot
API itself, synchronously and with short timeouts. Neither the token (it is in every
URL) nor the text sent (it carries a login code) is ever logged or put in an error.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache

from accounts.exceptions import TelegramUnavailable

__all__ = ["TelegramUnavailable", "get_bot_username", "send_message"]

TIMEOUT = httpx.Timeout(5.0)
BOT_USERNAME_CACHE_SECONDS = 60 * 60


def send_message(*, chat_id: int, text: str) -> None:
    """Send plain ``text`` to ``chat_id``. Raises TelegramUnavailable."""
    _call("sendMessage", {"chat_id": chat_id, "text": text})


def get_bot_username() -> str:
    """The bot's username from ``getMe``, cached for an hour. Raises
    TelegramUnavailable."""
    key = f"accounts:telegram:bot-username:{_token_fingerprint()}"
    username = cache.get(key)
    if username:
        return str(username)
    result = _call("getMe", {})
    username = str(result.get("username") or "") if isinstance(result, dict) else ""
    if not username:
        raise TelegramUnavailable("getMe: no username in the answer")
    cache.set(key, username, BOT_USERNAME_CACHE_SECONDS)
    return username


def _call(method: str, payload: dict[str, Any]) -> Any:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise TelegramUnavailable(f"{method}: TELEGRAM_BOT_TOKEN is not set")
    url = f"{settings.TELEGRAM_API_URL}/bot{token}/{method}"
    try:
        response = httpx.post(url, json=payload, timeout=TIMEOUT)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # httpx messages may quote the URL, hence the token: only the class is kept.
        raise TelegramUnavailable(f"{method}: {type(exc).__name__}") from None
    try:
        answer = response.json()
    except ValueError:
        raise TelegramUnavailable(
            f"{method}: HTTP {response.status_code}, not JSON"
        ) from None
    if not isinstance(answer, dict) or not answer.get("ok"):
        answer = answer if isinstance(answer, dict) else {}
        parameters = answer.get("parameters") or {}
        retry_after = parameters.get("retry_after") if parameters else None
        raise TelegramUnavailable(
            f"{method}: HTTP {response.status_code} "
            f"{answer.get('error_code', '')} {answer.get('description', '')}".strip(),
            retry_after=int(retry_after) if retry_after else None,
        )
    return answer.get("result")


def _token_fingerprint() -> str:
    return hashlib.sha256(settings.TELEGRAM_BOT_TOKEN.encode()).hexdigest()[:16]
