"""The HTTP fallback transport, for clients whose WebSocket a proxy or an antivirus
breaks: the same consumers (``SocketConsumer``), driven with a WebSocket-like scope.

``POST /http/<name>/stream`` runs the consumer of ``/ws/<name>/``: what it sends goes
down the response as Server-Sent Events, which stays open. ``POST /http/<name>/frames``
hands that stream the client's frames (one JSON frame a line), on whichever web
process holds it: through its hub's own channel (``realtime.hub``), numbered so that
they are handled in order once. The stream's id is unguessable and bound to the
session. docs/protocol.md, "HTTP fallback", has the contract.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from importlib import import_module
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from realtime import hub
from realtime.consumer import language_of
from realtime.errors import ErrorCode
from realtime.middleware import resolve_identity
from realtime.proxies import believed
from realtime.streams import Stream, open_streams

logger = logging.getLogger(__name__)

HTTP_PREFIX = "/http/"
WS_PREFIX = "/ws/"
FRAMES_EVENT = "fallback.frames"  # a POST's frames, to the hub holding the stream
LOCAL = "local"  # a stream's place when its process's hub has no channel
MAX_ID_LENGTH = 400


class HttpFallback:
    """ASGI for HTTP: the fallback's two paths for each WebSocket path in
    ``ws_paths``, everything else to ``http_app`` (Django)."""

    def __init__(self, websocket_app: Any, http_app: Any, ws_paths: list[str]) -> None:
        self.websocket_app = websocket_app
        self.http_app = http_app
        self.routes: dict[str, tuple[str, str]] = {}
        for ws_path in ws_paths:
            base = HTTP_PREFIX + ws_path.removeprefix(WS_PREFIX)
            self.routes[base + "stream"] = ("stream", ws_path)
            self.routes[base + "frames"] = ("frames", ws_path)
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        hub.direct_handlers[FRAMES_EVENT] = _deliver_routed

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        route = self.routes.get(scope.get("path", ""))
        if route is None or scope.get("type") != "http":
            return await self.http_app(scope, receive, send)
        scope = believed(scope)
        kind, ws_path = route
        with translation.override(language_of(_with_cookies(scope))):
            if scope.get("method") != "POST":
                await _refuse(send, 405, ErrorCode.INVALID, _("Use POST."))
            elif kind == "stream":
                await self._stream(scope, receive, send, ws_path)
            else:
                await self._frames(scope, receive, send)

    async def _stream(
        self, scope: dict[str, Any], receive: Any, send: Any, ws_path: str
    ) -> None:
        identity = resolve_identity(scope, self.session_store)
        session_key = (identity and identity.session.session_key) or ""
        place = await _hub_address()
        stream = Stream(
            stream_id=new_stream_id(place, session_key),
            send=send,
            limits={
                "max_frames": settings.SOHBET_HTTP_FRAMES_PER_POST,
                "max_bytes": settings.SOHBET_HTTP_POST_BYTES,
            },
        )
        ws_scope = {
            **scope,
            "type": "websocket",
            "scheme": "wss" if scope.get("scheme") == "https" else "ws",
            "path": ws_path,
            "raw_path": ws_path.encode(),
            "query_string": b"",
            "subprotocols": [],
            "extensions": {},
        }
        ws_scope.pop("method", None)
        await stream.run(self.websocket_app, ws_scope, receive)

    async def _frames(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers", ()))
        identity = resolve_identity(scope, self.session_store)
        if identity is None:
            await _refuse(
                send, 403, ErrorCode.FORBIDDEN, _("This page may not connect here.")
            )
            return
        session_key = identity.session.session_key
        stream_id = headers.get(b"x-sohbet-stream", b"").decode("latin1")
        place = parse_stream_id(stream_id, session_key or "") if session_key else None
        if place is None:
            await _refuse(send, 404, ErrorCode.NOT_FOUND, _("This stream has ended."))
            return
        try:
            number = int(headers.get(b"x-sohbet-post", b""))
        except ValueError:
            number = 0
        if number < 1:
            await _refuse(
                send, 400, ErrorCode.INVALID, _("X-Sohbet-Post must number the post.")
            )
            return
        frames = await _read_frames(scope, receive, send)
        if frames is None:
            return
        handed = await _hand_over(stream_id, place, number, frames)
        if handed is None:
            await _refuse(
                send,
                503,
                ErrorCode.UNAVAILABLE,
                _("The server cannot answer right now. Please try again."),
            )
            return
        if not handed:
            await _refuse(send, 404, ErrorCode.NOT_FOUND, _("This stream has ended."))
            return
        await send({"type": "http.response.start", "status": 204, "headers": HEADERS})
        await send({"type": "http.response.body", "body": b""})


HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]


async def _read_frames(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    """The request's frames (lines of text), or None once refused: over
    ``SOHBET_HTTP_POST_BYTES`` (told before the body is read when declared), over
    ``SOHBET_HTTP_FRAMES_PER_POST``, none, or not UTF-8."""
    limit = settings.SOHBET_HTTP_POST_BYTES
    count = settings.SOHBET_HTTP_FRAMES_PER_POST
    too_large = _("At most %(count)s frames and %(bytes)s bytes per request.") % {
        "count": count,
        "bytes": limit,
    }
    declared = dict(scope.get("headers", ())).get(b"content-length", b"0")
    if not declared.isdigit() or int(declared) > limit:
        await _refuse(send, 413, ErrorCode.TOO_LONG, too_large)
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None  # the client left
        body += message.get("body", b"")
        if len(body) > limit:
            await _refuse(send, 413, ErrorCode.TOO_LONG, too_large)
            return None
        if not message.get("more_body", False):
            break
    try:
        lines = [line for line in body.decode().split("\n") if line.strip()]
    except UnicodeDecodeError:
        lines = []
    if not lines:
        await _refuse(
            send, 400, ErrorCode.INVALID, _("Send one JSON frame per line, in UTF-8.")
        )
        return None
    if len(lines) > count:
        await _refuse(send, 413, ErrorCode.TOO_LONG, too_large)
        return None
    return lines


async def _hand_over(
    stream_id: str, place: str, number: int, frames: list[str]
) -> bool | None:
    """Give post ``number``'s frames to their stream, here or on the process that
    holds it; False when it is known to be gone, None when the channel layer
    (which reaches the other processes) fails."""
    stream = open_streams.get(stream_id)
    if stream is not None:
        return stream.take(number, frames)
    layer = get_channel_layer()
    if place == LOCAL or layer is None:
        return False
    the_hub = hub.running_hub(layer)
    if the_hub is not None and the_hub.channel_name == place:
        return False  # this process's, and it ended
    event = {"type": FRAMES_EVENT, "stream": stream_id, "post": number}
    try:
        await layer.send(place, {**event, "frames": frames})
    except Exception as exc:  # the layer's server (Redis) away: the client retries
        logger.warning("HTTP frames not routed to their stream: %s", exc)
        return None
    return True


def _deliver_routed(event: Any) -> None:
    """A hub's handler of ``FRAMES_EVENT``: another process took the POST."""
    stream = open_streams.get(event.get("stream"))
    if stream is not None:
        stream.take(int(event["post"]), [str(f) for f in event["frames"]])


async def _hub_address() -> str:
    """Where other processes reach this one's streams: its hub's channel, or
    ``LOCAL`` without a layer (a stream then takes POSTs from this process only)."""
    the_hub = hub.get_hub("default")
    if the_hub is None:
        return LOCAL
    try:
        return await the_hub.address()
    except Exception as exc:  # the layer's server away: this process only
        logger.warning("HTTP stream reachable from this process only: %s", exc)
        return LOCAL


def new_stream_id(place: str, session_key: str) -> str:
    """An id nobody can guess, usable only with ``session_key``'s session."""
    token = secrets.token_urlsafe(18)
    encoded = base64.urlsafe_b64encode(place.encode()).decode().rstrip("=")
    return f"{token}.{encoded}.{_mac(token, place, session_key)}"


def parse_stream_id(stream_id: str, session_key: str) -> str | None:
    """The place of the stream ``stream_id`` names, when it was made for
    ``session_key``'s session; else None."""
    if len(stream_id) > MAX_ID_LENGTH or stream_id.count(".") != 2:
        return None
    token, encoded, mac = stream_id.split(".")
    try:
        place = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not constant_time_compare(mac, _mac(token, place, session_key)):
        return None
    return place


def _mac(token: str, place: str, session_key: str) -> str:
    value = f"{token}|{place}|{session_key}"
    return salted_hmac("sohbet.stream", value, algorithm="sha256").hexdigest()[:32]


def _with_cookies(scope: dict[str, Any]) -> dict[str, Any]:
    """``scope`` with its ``cookies``, for ``language_of``."""
    cookie = "; ".join(
        value.decode("latin1")
        for name, value in scope.get("headers", ())
        if name == b"cookie"
    )
    return {**scope, "cookies": parse_cookie(cookie)}


async def _refuse(send: Any, status: int, code: ErrorCode, detail: str) -> None:
    """An error answer as the upload API's: ``{"error": {"code", "detail"}}``."""
    body = json.dumps({"error": {"code": str(code), "detail": detail}}).encode()
    headers = [*HEADERS, (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
