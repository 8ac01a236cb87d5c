"""The HTTP side: a threaded server on 127.0.0.1 and the Bot API's request
encodings (query string, urlencoded form, JSON, multipart with files), decoded to
the same typed parameters whichever one the client used."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.telegram.fakebot.errors import ApiError, bad_request
from tests.telegram.fakebot.state import UploadedFile

logger = logging.getLogger(__name__)

# Form values arrive as strings; these are decoded so that Call.params look the
# same whichever encoding was used.
_INT_FIELDS = frozenset(
    {"chat_id", "message_id", "message_thread_id", "offset", "limit", "timeout"}
)
_BOOL_FIELDS = frozenset({"disable_notification", "allow_sending_without_reply"})
_JSON_FIELDS = frozenset(
    {"allowed_updates", "reaction", "reply_markup", "reply_parameters"}
)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0  # seconds to hold the answer back (the effect is done)


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode())


class Params:
    """Typed access to decoded parameters; a wrong type answers 400 like Telegram."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if isinstance(value, dict | list):
            raise bad_request(f"{name} must be a string")
        return None if value is None else str(value)

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"invalid {name} specified")
        return value

    def integer(self, name: str) -> int | None:
        value = self.number(name)
        return None if value is None else int(value)

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def structure(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            raise bad_request(f"can't parse {name} JSON object")
        return value


def parse_request(
    query: str, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """The parameters and files of a request. Raises ApiError (400)."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type == "application/json" and body:
        try:
            decoded = json.loads(body)
        except ValueError as exc:
            raise bad_request("can't parse JSON object") from exc
        if not isinstance(decoded, dict):
            raise bad_request("JSON object expected")
        raw.update(decoded)
    elif media_type == "multipart/form-data":
        fields, files = _parse_multipart(content_type, body)
        raw.update(fields)
    elif body:
        raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {name: _decode(name, value) for name, value in raw.items()}, files


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if name in _INT_FIELDS:
            return float(value) if "." in value else int(value)
        if name in _JSON_FIELDS:
            return json.loads(value)
    except ValueError:
        return value  # left a string: Params answers 400 for it
    if name in _BOOL_FIELDS and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    return value


_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?')
_DISPOSITION_RE = re.compile(r';\s*([A-Za-z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    boundary = _BOUNDARY_RE.search(content_type)
    if boundary is None:
        raise bad_request("can't parse multipart/form-data: no boundary")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for section in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if section.startswith(b"--"):
            break
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise bad_request("can't parse multipart/form-data part")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = {
            key.lower(): value.strip('"').replace('\\"', '"')
            for key, value in _DISPOSITION_RE.findall(
                ";" + headers.get("content-disposition", "").partition(";")[2]
            )
        }
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            files[name] = UploadedFile(
                content, unquote(disposition["filename"]), headers.get("content-type")
            )
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


class HttpServer:
    """Serves ``handle(path, content_type, body) -> Response`` on 127.0.0.1 in a
    background thread. ``stopping`` cuts delayed answers short."""

    def __init__(
        self, handle: Callable[[str, str, bytes], Response], stopping: threading.Event
    ) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.handle = handle
        self._server.stopping = stopping
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of concurrent sends (one
    # connection each under HTTP/1.0) would be reset.
    request_queue_size = 512
    handle: Callable[[str, str, bytes], Response]
    stopping: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._respond()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("fake Bot API: " + format, *args)

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            if self.headers.get("Transfer-Encoding"):
                raise bad_request("the fake reads bodies with a Content-Length only")
            response = self.server.handle(
                self.path, self.headers.get("Content-Type", ""), body
            )
        except ApiError as error:
            response = json_response(error.payload(), error.status)
        except Exception as exc:  # the fake must answer, whatever happened
            logger.exception("fake Bot API failed on %s", self.path)
            failure = ApiError(500, f"Internal Server Error: {exc!r}")
            response = json_response(failure.payload(), 500)
        if response.delay:
            self.server.stopping.wait(response.delay)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout); Telegram would not notice either
