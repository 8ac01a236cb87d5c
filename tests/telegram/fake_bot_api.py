"""A fake Telegram Bot API server on 127.0.0.1, for tests of the Telegram bridge.

python-telegram-bot reaches it over real HTTP through ``base_url``/``base_file_url``,
so tests run the library exactly as production does and never patch it. The server
speaks the Bot API wire protocol (``/bot<token>/<method>``, parameters as query string,
urlencoded form, JSON or multipart, answers ``{"ok": ..., "result"|"error_code"...}``)
and keeps the state one bot in one operator chat needs: messages, forum topics, files,
updates for ``getUpdates``.

Tests drive it from the other side: ``push_update`` and the builders
(``operator_text``...) play the humans in the chat, ``fail_next``/``delay_next``/
``set_rate_limit`` inject faults, and ``calls``/``sent_messages``/``wait_for`` observe.
``wait_for`` is how tests synchronise with the bridge; never sleep.

Telegram's flood control is enforced (``tests.telegram.fake_flood``: per chat, per
group, overall; flood waits with the calls that broke them in ``flood_violations``),
with Telegram's figures unless a test passes other ``flood`` rules. ``clock`` (the
flood windows and ``Call.at``) may be a test's virtual clock, shared with the bridge.

Where Telegram's behaviour matters to the bridge it is reproduced, quirks included:
- ``message_thread_id`` of a forum topic is the id of its ``forum_topic_created``
  service message, and a message in a topic without an explicit reply comes back with
  that service message as ``reply_to_message``;
- ``getUpdates`` confirms every update below ``offset``, long-polls up to ``timeout``
  seconds, and a second concurrent ``getUpdates`` ends the first with 409 Conflict;
- a closed topic refuses the messages of members who are not admins (the builders
  raise ``TopicClosed``); bots may write there with the right to manage topics;
- a group upgraded to a supergroup (``migrate_chat``) answers every call with 400
  and ``parameters.migrate_to_chat_id``;
- HTML ``parse_mode`` is parsed like Telegram does: the stored text is the plain text
  and the markup becomes entities with UTF-16 offsets. Markdown modes are accepted but
  their markup is not interpreted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.telegram.fake_flood import TELEGRAM, FloodControl, FloodRules, Violation

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-token-for-the-fake-api-only"
OPERATOR_CHAT_ID = -1001234567890
OPERATOR_USER_ID = 500100200
BOT_ID = 777000111
BOT_USERNAME = "sohbet_test_bot"
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Sohbet Test Bot",
    "username": BOT_USERNAME,
}
GET_ME: dict[str, Any] = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}
DEFAULT_ICON_COLOR = 0x6FB9F0
TOPIC_ICON_COLORS = frozenset(
    {0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F}
)
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
UPDATE_LIMIT = 100
# File downloads are recorded as calls of this pseudo-method.
DOWNLOAD = "downloadFile"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SERVICE_KINDS = frozenset(
    {
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "pinned_message",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
# Parameters that arrive as strings in forms but are numbers, flags or JSON values;
# they are decoded once so Call.params looks the same whichever encoding was used.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "duration",
        "icon_color",
        "width",
        "height",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "allow_sending_without_reply",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "has_spoiler",
        "is_big",
        "protect_content",
        "show_caption_above_media",
    }
)
_JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "reaction",
        "reply_markup",
        "reply_parameters",
        "scope",
    }
)


# --- Values ----------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

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


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _not_found() -> ApiError:
    return ApiError(404, "Not Found")


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    content: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Call:
    """One request the server received; ``status``/``response`` are set once answered.

    ``params`` are decoded: numbers, flags and JSON-encoded values (reply_parameters,
    reply_markup, reaction, entities...) have their Python types whatever the encoding.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    status: int | None = None
    response: Any = None


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_size: int
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class Topic:
    chat_id: int
    message_thread_id: int
    name: str
    icon_color: int = DEFAULT_ICON_COLOR
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        """The ForumTopic object."""
        topic: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class FakeChat:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    first_name: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The Chat object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or ""
        else:
            chat["title"] = self.title or ""
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def full_info(self) -> dict[str, Any]:
        """The ChatFullInfo object of getChat."""
        return {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@dataclass
class _Fault:
    status: int
    description: str
    parameters: dict[str, Any] | None
    body: bytes | None


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


def _json_response(payload: Any, status: int = 200, delay: float = 0.0) -> _Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return _Response(status, body, delay=delay)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- HTML parse mode -------------------------------------------------------------

_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
_ATTR_RE = re.compile(
    r"""\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class HtmlParseError(ValueError):
    pass


def _decode_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


@dataclass
class _OpenTag:
    name: str
    offset: int
    entity: dict[str, Any] | None
    pre: _OpenTag | None = None


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities (UTF-16 offsets).

    Raises HtmlParseError with Telegram's wording for markup it would refuse. As in
    Telegram, ``&`` that does not start a supported entity stays literal.
    """
    out: list[str] = []
    offset = 0  # in UTF-16 code units, like entity offsets
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&" and (entity := _ENTITY_RE.match(source, i)):
            decoded = _decode_entity(entity)
            out.append(decoded)
            offset += _utf16_length(decoded)
            i = entity.end()
            continue
        if char != "<":
            out.append(char)
            offset += _utf16_length(char)
            i += 1
            continue
        at = len(source[:i].encode())
        tag = _TAG_RE.match(source, i)
        if tag is None:
            if ">" not in source[i:]:
                raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
            raise HtmlParseError(f'Unsupported start tag "" at byte offset {at}')
        closing, name, rest = tag.group(1), tag.group(2).lower(), tag.group(3)
        i = tag.end()
        if closing:
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {at}")
            opened = stack.pop()
            if opened.name != name:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {at}, "
                    f'expected "</{opened.name}>", found "</{name}>"'
                )
            if opened.entity is not None and offset > opened.offset:
                entities.append(
                    {
                        **opened.entity,
                        "offset": opened.offset,
                        "length": offset - opened.offset,
                    }
                )
            continue
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attrs = {
            match.group(1).lower(): _ENTITY_RE.sub(
                _decode_entity,
                next((g for g in match.groups()[1:] if g is not None), ""),
            )
            for match in _ATTR_RE.finditer(rest)
        }
        stack.append(_OpenTag(name, offset, _html_entity(name, attrs, stack)))
    if stack:
        raise HtmlParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def _html_entity(
    name: str, attrs: dict[str, str], stack: list[_OpenTag]
) -> dict[str, Any] | None:
    kind = _HTML_TAGS[name]
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        href = attrs.get("href", "")
        return {"type": kind, "url": href} if href else None
    if name == "tg-emoji":
        return {"type": kind, "custom_emoji_id": attrs.get("emoji-id", "")}
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    language = attrs.get("class", "")
    if (
        name == "code"
        and stack
        and stack[-1].name == "pre"
        and stack[-1].entity is not None
        and language.startswith("language-")
    ):
        # <pre><code class="language-x"> is one pre entity with a language.
        stack[-1].entity["language"] = language.removeprefix("language-")
        return None
    return {"type": kind}


# --- Request decoding ------------------------------------------------------------


def _decode_value(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    if name in _BOOL_FIELDS and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_DISPOSITION_PARAM_RE = re.compile(r';\s*([A-Za-z*]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    boundary_match = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary_match is None:
        raise _bad_request("can't parse multipart/form-data: no boundary")
    delimiter = b"--" + boundary_match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for section in body.split(delimiter)[1:]:
        if section.startswith(b"--"):
            break
        section = section.removeprefix(b"\r\n")
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            raise _bad_request("can't parse multipart/form-data part")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = {
            key.lower(): value.strip('"').replace('\\"', '"')
            for key, value in _DISPOSITION_PARAM_RE.findall(
                ";" + headers.get("content-disposition", "").partition(";")[2]
            )
        }
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            files[name] = UploadedFile(
                content=content,
                filename=unquote(disposition["filename"]),
                content_type=headers.get("content-type"),
            )
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


def _parse_parameters(
    query: str, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    media_type = content_type.partition(";")[0].strip().lower()
    if body:
        if media_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _bad_request("can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise _bad_request("JSON object expected")
            raw.update(decoded)
        elif media_type == "multipart/form-data":
            fields, files = _parse_multipart(content_type, body)
            raw.update(fields)
        else:
            raw.update(
                parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            )
    return {name: _decode_value(name, value) for name, value in raw.items()}, files


class _Params:
    """Typed access to decoded parameters; wrong values answer 400 like Telegram."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise _bad_request(f"{name} must be a string")
        return str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_request(f"invalid {name} specified")
        return int(value)

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_request(f"invalid {name} specified")
        return float(value)

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        return self.values.get(name) in (True, 1)

    def structure(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            raise _bad_request(f"can't parse {name} JSON object")
        return value


# --- Server ----------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of concurrent sends (one
    # connection each under HTTP/1.0) would be reset.
    request_queue_size = 512
    fake: FakeBotApi


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("fake Bot API: " + format, *args)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
        except ValueError:
            response = _json_response(_bad_request("invalid body").payload(), 400)
        else:
            try:
                response = fake._serve(
                    self.path, self.headers.get("Content-Type", ""), body
                )
            except Exception as exc:  # the fake must answer, whatever happened
                logger.exception("fake Bot API failed on %s", self.path)
                response = _json_response(
                    ApiError(500, f"Internal Server Error: {exc!r}").payload(), 500
                )
        if response.delay:
            fake._stopping.wait(response.delay)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout); Telegram would not notice either


# --- The fake --------------------------------------------------------------------


class FakeBotApi:
    """A Bot API server for one bot and its chats, on 127.0.0.1 in a background thread.

    All state is guarded by one lock; ``wait_for`` wakes on every call and push.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        chat_id: int = OPERATOR_CHAT_ID,
        chat_title: str = "Support",
        chat_type: str = "supergroup",
        is_forum: bool = True,
        max_download_size: int = MAX_DOWNLOAD_SIZE,
        first_update_id: int = 1,
        flood: FloodRules = TELEGRAM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.chat_id = chat_id
        self.max_download_size = max_download_size
        self._clock = clock
        self._flood = FloodControl(flood, clock)
        self._admins: set[int] = {OPERATOR_USER_ID}
        self._migrated: dict[int, int] = {}
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._blocked_by: set[int] = set()
        self._bot_member: dict[str, Any] = {"status": "administrator", **ADMIN_RIGHTS}
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = first_update_id
        self._confirmed_offset = 0
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._message_ids: dict[int, Iterator[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._replies: dict[tuple[int, int], tuple[int, int]] = {}
        self._deleted: list[tuple[int, int]] = []
        self._sent: list[tuple[int, int]] = []
        self._topics: dict[tuple[int, int], Topic] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._reactions: list[tuple[int, int, list[dict[str, Any]]]] = []
        self._chat_actions: list[tuple[int, str, int | None]] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._rate_limits: dict[str, tuple[float, int]] = {}
        self._accepted_at: dict[str, deque[float]] = {}
        self.add_chat(chat_id, type=chat_type, title=chat_title, is_forum=is_forum)

    # --- Lifecycle ---------------------------------------------------------------

    def start(self) -> FakeBotApi:
        if self._server is not None:
            raise RuntimeError("the fake Bot API is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls and delayed answers return at once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Bot API is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- Configuration -----------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str = "supergroup",  # noqa: A002 - the Bot API's name
        title: str | None = None,
        is_forum: bool = False,
        username: str | None = None,
        first_name: str | None = None,
    ) -> FakeChat:
        with self._cond:
            chat = FakeChat(chat_id, type, title, is_forum, username, first_name)
            self._chats[chat_id] = chat
            # Ids start above 1: the General topic of a forum is thread 1.
            self._message_ids.setdefault(chat_id, itertools.count(101))
            return chat

    def set_bot_member(self, status: str = "administrator", **rights: bool) -> None:
        """The bot's membership in every group: ``administrator`` (with ADMIN_RIGHTS
        overridden by ``rights``), ``member``, ``left`` or ``kicked``."""
        with self._cond:
            if status == "administrator":
                self._bot_member = {"status": status, **ADMIN_RIGHTS, **rights}
            else:
                self._bot_member = {"status": status}

    def add_admin(self, user_id: int) -> None:
        """A member who is an admin of the groups (writes in closed topics too).
        OPERATOR_USER_ID, the group's owner, is one from the start."""
        with self._cond:
            self._admins.add(user_id)

    def migrate_chat(
        self, chat_id: int, new_chat_id: int, *, is_forum: bool = False
    ) -> None:
        """The group was upgraded to a supergroup ``new_chat_id``: calls naming the
        old id are answered 400 with ``parameters.migrate_to_chat_id``."""
        with self._cond:
            old = self._test_chat(chat_id)
            self._migrated[chat_id] = new_chat_id
            self.add_chat(
                new_chat_id, type="supergroup", title=old.title, is_forum=is_forum
            )

    def block_bot(self, user_id: int) -> None:
        """The user blocked the bot: messages to their private chat answer 403."""
        with self._cond:
            self._blocked_by.add(user_id)

    def add_file(
        self,
        content: bytes,
        file_size: int | None = None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
    ) -> str:
        """Register a downloadable file; ``file_size`` may claim more than ``content``
        (to reach the download limit without the bytes). Returns the file_id."""
        with self._cond:
            return self._store_file(
                content,
                file_size=file_size,
                filename=filename,
                mime_type=mime_type,
                folder=folder,
            ).file_id

    def add_topic(
        self,
        name: str,
        *,
        chat_id: int | None = None,
        icon_color: int = DEFAULT_ICON_COLOR,
    ) -> Topic:
        """A topic that already exists (created by someone, no update pushed)."""
        with self._cond:
            chat = self._test_chat(chat_id)
            message_id = next(self._message_ids[chat.id])
            self._messages[(chat.id, message_id)] = {
                "message_id": message_id,
                "from": self._human(OPERATOR_USER_ID, "Ayşe", None),
                "chat": chat.to_api(),
                "date": int(time.time()),
                "message_thread_id": message_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": icon_color},
            }
            topic = Topic(chat.id, message_id, name, icon_color)
            self._topics[(chat.id, message_id)] = topic
            return dataclasses.replace(topic)

    # --- Fault injection ---------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        body: bytes | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error, before any
        effect. 429 carries ``parameters.retry_after`` (default 1) and starts a flood
        wait; ``migrate_to_chat_id`` is the answer for an upgraded group. ``body``
        replaces the JSON answer (an HTML page from a proxy, say). ``downloadFile``
        stands for the file server."""
        method = DOWNLOAD if method == DOWNLOAD else self._canonical(method)
        parameters: dict[str, Any] | None = None
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif retry_after is not None:
            parameters = {"retry_after": retry_after}
        if migrate_to_chat_id is not None:
            parameters = {
                **(parameters or {}),
                "migrate_to_chat_id": migrate_to_chat_id,
            }
            description = description or (
                "Bad Request: group chat was upgraded to a supergroup chat"
            )
        if description is None:
            try:
                description = HTTPStatus(status).phrase
            except ValueError:
                description = f"Error {status}"
        fault = _Fault(status, description, parameters, body)
        with self._cond:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late. The call
        takes effect at once; only the answer is late, as when Telegram has sent a
        message but the client timed out waiting for the response."""
        method = self._canonical(method)
        with self._cond:
            self._delays.setdefault(method, deque()).extend([seconds] * times)

    def set_rate_limit(
        self, method: str, *, per_seconds: float, max_calls: int
    ) -> None:
        """More than ``max_calls`` accepted calls of ``method`` within ``per_seconds``
        answer 429 with the seconds until the oldest leaves the window."""
        method = self._canonical(method)
        with self._cond:
            self._rate_limits[method] = (per_seconds, max_calls)

    # --- Updates (the humans' side) ----------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates with the next update_id; returns the id."""
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            body = {key: value for key, value in update.items() if key != "update_id"}
            self._updates.append({"update_id": update_id, **body})
            self._cond.notify_all()
            return update_id

    def push_raw_update(self, update: dict[str, Any]) -> None:
        """Queue an update with its own update_id (a redelivery, a duplicate)."""
        with self._cond:
            update_id = int(update["update_id"])
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._updates.append(dict(update))
            self._cond.notify_all()

    def operator_text(
        self,
        text: str,
        *,
        user_id: int,
        first_name: str = "Ayşe",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An Update: a text message from a human in the operator chat (not pushed)."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._human_message(
            content,
            user_id=user_id,
            first_name=first_name,
            username=username,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            chat_id=chat_id,
        )

    def command(
        self,
        text: str,
        *,
        user_id: int,
        first_name: str = "Ayşe",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """An Update: ``/command args`` with its bot_command entity."""
        if not text.startswith("/"):
            raise ValueError("a command starts with /")
        head = text.split(maxsplit=1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_length(head)}
        return self.operator_text(
            text,
            user_id=user_id,
            first_name=first_name,
            username=username,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            chat_id=chat_id,
            entities=[entity],
        )

    def operator_edit(
        self,
        message_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An Update: ``edited_message`` for a message the fake knows."""
        with self._cond:
            key = (self._test_chat(chat_id).id, message_id)
            if key not in self._messages:
                raise ValueError(f"the fake knows no message {key}")
            message = self._messages[key]
            message.pop("caption" if "caption" in message else "text", None)
            message["caption" if _has_media(message) else "text"] = text
            message.pop("entities", None)
            if entities:
                message["entities"] = entities
            message["edit_date"] = int(time.time())
            return {"edited_message": self._render(key)}

    def operator_photo(
        self,
        content: bytes = b"\x89PNG\r\n\x1a\nfake photo",
        *,
        caption: str | None = None,
        file_size: int | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        """An Update: a photo (two PhotoSize, files registered). ``sender`` takes the
        keyword arguments of operator_text."""
        with self._cond:
            sizes = [
                self._photo_size(content, file_size, width, height)
                for width, height in ((90, 67), (1280, 960))
            ]
        return self._human_message(_with_caption({"photo": sizes}, caption), **sender)

    def operator_voice(
        self,
        content: bytes = b"OggS fake voice",
        *,
        duration: int = 1,
        caption: str | None = None,
        file_size: int | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        with self._cond:
            stored = self._store_file(
                content, file_size=file_size, mime_type="audio/ogg", folder="voice"
            )
        voice = {**_file_fields(stored), "duration": duration}
        return self._human_message(_with_caption({"voice": voice}, caption), **sender)

    def operator_audio(
        self,
        content: bytes = b"ID3 fake audio",
        *,
        duration: int = 1,
        file_name: str = "song.mp3",
        mime_type: str = "audio/mpeg",
        caption: str | None = None,
        file_size: int | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        with self._cond:
            stored = self._store_file(
                content,
                file_size=file_size,
                filename=file_name,
                mime_type=mime_type,
                folder="music",
            )
        audio = {**_file_fields(stored), "duration": duration, "file_name": file_name}
        return self._human_message(_with_caption({"audio": audio}, caption), **sender)

    def operator_document(
        self,
        content: bytes = b"%PDF-1.4 fake document",
        *,
        file_name: str = "belge.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        file_size: int | None = None,
        **sender: Any,
    ) -> dict[str, Any]:
        with self._cond:
            stored = self._store_file(
                content,
                file_size=file_size,
                filename=file_name,
                mime_type=mime_type,
                folder="documents",
            )
        document = {**_file_fields(stored), "file_name": file_name}
        content_fields = _with_caption({"document": document}, caption)
        return self._human_message(content_fields, **sender)

    def service_message(
        self,
        kind: str,
        *,
        message_thread_id: int | None = None,
        name: str = "Topic",
        icon_color: int = DEFAULT_ICON_COLOR,
        pinned_message_id: int | None = None,
        user_id: int = OPERATOR_USER_ID,
        first_name: str = "Ayşe",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """An Update: a service message by a human, applied to the fake's state.

        ``forum_topic_created`` makes a new topic (its thread id is the message id);
        ``forum_topic_edited`` renames, ``forum_topic_closed``/``_reopened`` toggle
        ``closed`` of ``message_thread_id``; ``pinned_message`` pins a known message.
        """
        if kind not in SERVICE_KINDS:
            raise ValueError(f"unknown service message {kind!r}")
        with self._cond:
            chat = self._test_chat(chat_id)
            if kind == "forum_topic_created":
                message_id = next(self._message_ids[chat.id])
                key = (chat.id, message_id)
                self._messages[key] = {
                    "message_id": message_id,
                    "from": self._human(user_id, first_name, None),
                    "chat": chat.to_api(),
                    "date": int(time.time()),
                    "message_thread_id": message_id,
                    "is_topic_message": True,
                    "forum_topic_created": {"name": name, "icon_color": icon_color},
                }
                self._topics[key] = Topic(chat.id, message_id, name, icon_color)
                return {"message": self._render(key)}
            content: dict[str, Any]
            if kind == "pinned_message":
                target = (chat.id, pinned_message_id or 0)
                if target not in self._messages:
                    raise ValueError(f"the fake knows no message {target}")
                content = {"pinned_message": self._render(target, nested=False)}
            else:
                topic = self._topics.get((chat.id, message_thread_id or 0))
                if topic is None:
                    raise ValueError(f"the fake knows no topic {message_thread_id}")
                if kind == "forum_topic_edited":
                    topic.name = name
                    content = {"forum_topic_edited": {"name": name}}
                else:
                    topic.closed = kind == "forum_topic_closed"
                    content = {kind: {}}
            return self._human_message(
                content,
                user_id=user_id,
                first_name=first_name,
                message_thread_id=message_thread_id,
                chat_id=chat.id,
            )

    def private_start(
        self,
        user_id: int,
        payload: str | None = None,
        *,
        first_name: str = "Ayşe",
        username: str | None = None,
    ) -> dict[str, Any]:
        """An Update: ``/start <payload>`` in the user's private chat with the bot."""
        with self._cond:
            chat = self._chats.get(user_id)
            if chat is None:
                chat = self.add_chat(
                    user_id,
                    type="private",
                    first_name=first_name,
                    username=username,
                )
            text = f"/start {payload}" if payload else "/start"
            entity = {"type": "bot_command", "offset": 0, "length": 6}
            return self._human_message(
                {"text": text, "entities": [entity]},
                user_id=user_id,
                first_name=first_name,
                username=username,
                chat_id=chat.id,
            )

    # --- Inspection --------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            if method is None:
                return list(self._calls)
            if method != DOWNLOAD:
                method = self._canonical(method)
            return [call for call in self._calls if call.method == method]

    def sent_messages(
        self, chat_id: int | None = None, thread_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The messages the bot sent and has not deleted, in order, edits applied."""
        with self._cond:
            return [
                self._render(key)
                for key in self._sent
                if key not in self._deleted
                and (chat_id is None or key[0] == chat_id)
                and (
                    thread_id is None
                    or self._messages[key].get("message_thread_id") == thread_id
                )
            ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Any message the fake knows (the bot's or a human's), deleted or not."""
        with self._cond:
            if (chat_id, message_id) not in self._messages:
                return None
            return self._render((chat_id, message_id))

    @property
    def deleted_messages(self) -> list[tuple[int, int]]:
        with self._cond:
            return list(self._deleted)

    @property
    def topics(self) -> dict[int, Topic]:
        """The operator chat's topics by message_thread_id (copies)."""
        with self._cond:
            return {
                thread_id: dataclasses.replace(topic)
                for (chat_id, thread_id), topic in self._topics.items()
                if chat_id == self.chat_id
            }

    @property
    def flood_violations(self) -> list[Violation]:
        """Calls made while their chat (or method) was in a flood wait."""
        with self._cond:
            return list(self._flood.violations)

    @property
    def reactions(self) -> list[tuple[int, int, list[dict[str, Any]]]]:
        with self._cond:
            return list(self._reactions)

    @property
    def chat_actions(self) -> list[tuple[int, str, int | None]]:
        """(chat_id, action, message_thread_id) per sendChatAction."""
        with self._cond:
            return list(self._chat_actions)

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._commands.get(_scope_key(scope, language_code), []))

    def file(self, file_id: str) -> StoredFile:
        with self._cond:
            return self._files[file_id]

    @property
    def confirmed_offset(self) -> int:
        """The highest offset a getUpdates call has confirmed (0 before any)."""
        with self._cond:
            return self._confirmed_offset

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(update) for update in self._updates]

    def wait_for(self, predicate: Callable[[FakeBotApi], T], timeout: float = 5.0) -> T:
        """Block until ``predicate(self)`` is truthy (re-checked on every call and
        push) and return it. A LookupError in the predicate counts as not yet.
        Raises AssertionError listing the recent calls on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value: Any
                try:
                    value = predicate(self)
                except LookupError:
                    value = None
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"condition not met within {timeout} s; recent calls:\n"
                        + self._dump_calls()
                    )
                self._cond.wait(remaining)

    async def wait_for_async(
        self, predicate: Callable[[FakeBotApi], T], timeout: float = 5.0
    ) -> T:
        """``wait_for`` without blocking the event loop (for bridges on this loop)."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    def _dump_calls(self, last: int = 20) -> str:
        lines = [
            f"  {call.method} -> {call.status}: {_shorten(call.params)}"
            for call in self._calls[-last:]
        ]
        return "\n".join(lines) or "  (none)"

    # --- HTTP dispatch -----------------------------------------------------------

    def _serve(self, raw_path: str, content_type: str, body: bytes) -> _Response:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            return self._serve_download(path.removeprefix("/file/bot"))
        token, _, name = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or token != self.token or not name:
            return _json_response(_not_found().payload(), 404)
        at = self._clock()
        method = _METHODS_BY_LOWER_NAME.get(name.lower())
        try:
            params, files = _parse_parameters(url.query, content_type, body)
        except ApiError as error:
            call = Call(method or name, {}, {}, at)
            return self._answer(call, error, record=True)
        call = Call(method or name, params, files, at)
        if method is None:
            return self._answer(call, _not_found(), record=True)
        if method == "getUpdates":
            return self._serve_get_updates(call)
        with self._cond:
            self._calls.append(call)
            chat_id, is_group = self._call_chat(params)
            try:
                fault = self._flood_fault(method, chat_id, is_group)
                if fault is not None:
                    return self._answer(call, fault)
                handler = getattr(self, _METHODS[method])
                result = handler(_Params(params, files))
            except ApiError as error:
                return self._answer(call, error)
            self._flood.accepted(method, chat_id, is_group)
            return self._answer(call, result, ok=True)

    def _call_chat(self, params: dict[str, Any]) -> tuple[int | None, bool]:
        """The chat a call names (by numeric id), and whether it is a group."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            return None, False
        chat = self._chats.get(chat_id)
        return chat_id, chat is not None and chat.type in ("group", "supergroup")

    def _flood_fault(
        self, method: str, chat_id: int | None, is_group: bool
    ) -> _Fault | None:
        """A 429 for a flood wait or a full window, else a queued fault."""
        retry_after = self._flood.refusal(method, chat_id, is_group)
        if retry_after is not None:
            return _Fault(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
                None,
            )
        fault = self._take_fault(method)
        if fault is not None and fault.status == 429:
            wait = (fault.parameters or {}).get("retry_after", 1)
            self._flood.refused(method, chat_id, float(wait))
        return fault

    def _answer(
        self, call: Call, outcome: Any, *, ok: bool = False, record: bool = False
    ) -> _Response:
        with self._cond:
            if record:
                self._calls.append(call)
            response: _Response
            if ok:
                payload: Any = {"ok": True, "result": outcome}
                response = _json_response(payload)
                self._accepted_at.setdefault(call.method, deque()).append(self._clock())
            elif isinstance(outcome, _Fault) and outcome.body is not None:
                payload = outcome.body.decode("utf-8", "replace")
                response = _Response(outcome.status, outcome.body, "text/html")
            else:
                error = (
                    ApiError(outcome.status, outcome.description, outcome.parameters)
                    if isinstance(outcome, _Fault)
                    else outcome
                )
                payload = error.payload()
                response = _json_response(payload, error.status)
            call.status, call.response = response.status, payload
            delays = self._delays.get(call.method)
            if delays:
                response.delay = delays.popleft()
            self._cond.notify_all()
            return response

    def _take_fault(self, method: str) -> _Fault | None:
        faults = self._faults.get(method)
        if faults:
            return faults.popleft()
        limit = self._rate_limits.get(method)
        if limit is None:
            return None
        window, max_calls = limit
        now = self._clock()
        accepted = self._accepted_at.setdefault(method, deque())
        while accepted and accepted[0] <= now - window:
            accepted.popleft()
        if len(accepted) < max_calls:
            return None
        retry_after = max(1, math.ceil(accepted[0] + window - now))
        return _Fault(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
            None,
        )

    def _serve_get_updates(self, call: Call) -> _Response:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
            fault = self._flood_fault("getUpdates", None, False)
            if fault is not None:
                return self._answer(call, fault)
            try:
                params = _Params(call.params, call.files)
                offset = params.integer("offset") or 0
                limit = min(
                    max(params.integer("limit") or UPDATE_LIMIT, 1), UPDATE_LIMIT
                )
                timeout = max(params.number("timeout") or 0.0, 0.0)
                allowed = params.structure("allowed_updates")
                if allowed is not None:
                    self._allowed_updates = [str(kind) for kind in allowed]
                self._confirm(offset)
                self._poll_generation += 1
                generation = self._poll_generation
                self._cond.notify_all()  # a poll still waiting is now superseded
                deadline = time.monotonic() + timeout
                while True:
                    if generation != self._poll_generation:
                        raise ApiError(409, CONFLICT)
                    batch = self._deliverable(offset, limit)
                    remaining = deadline - time.monotonic()
                    if batch or remaining <= 0 or self._stopping.is_set():
                        break
                    self._cond.wait(remaining)
            except ApiError as error:
                return self._answer(call, error)
            return self._answer(call, batch, ok=True)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, offset: int, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates)
        return [
            dict(update)
            for update in self._updates
            if update["update_id"] >= offset
            and (not allowed or _update_kind(update) in allowed)
        ][:limit]

    def _serve_download(self, rest: str) -> _Response:
        token, _, file_path = rest.partition("/")
        with self._cond:
            call = Call(DOWNLOAD, {"file_path": file_path}, {}, self._clock())
            self._calls.append(call)
            fault = self._take_fault(DOWNLOAD)
            if fault is not None:
                return self._answer(call, fault)
            stored = next(
                (f for f in self._files.values() if f.file_path == file_path), None
            )
            if token != self.token or stored is None:
                call.status, call.response = 404, _not_found().payload()
                self._cond.notify_all()
                return _json_response(_not_found().payload(), 404)
            call.status, call.response = 200, f"<{len(stored.content)} bytes>"
            self._cond.notify_all()
            return _Response(
                200, stored.content, stored.mime_type or "application/octet-stream"
            )

    def _canonical(self, method: str) -> str:
        canonical = _METHODS_BY_LOWER_NAME.get(method.lower())
        if canonical is None:
            raise ValueError(f"the fake Bot API has no method {method!r}")
        return canonical

    # --- State helpers -----------------------------------------------------------

    def _human(
        self, user_id: int, first_name: str, username: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "tr",
        }
        if username:
            user["username"] = username
        self._users[user_id] = user
        return user

    def _test_chat(self, chat_id: int | None) -> FakeChat:
        chat = self._chats.get(self.chat_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"the fake knows no chat {chat_id}")
        return chat

    def _human_message(
        self,
        content: dict[str, Any],
        *,
        user_id: int,
        first_name: str = "Ayşe",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        with self._cond:
            chat = self._test_chat(chat_id)
            reply_key: tuple[int, int] | None = None
            if reply_to_message_id is not None:
                reply_key = (chat.id, reply_to_message_id)
                if reply_key not in self._messages:
                    raise ValueError(f"the fake knows no message {reply_key}")
                if message_thread_id is None:
                    message_thread_id = self._messages[reply_key].get(
                        "message_thread_id"
                    )
                if reply_key in self._deleted:
                    reply_key = None  # Telegram omits a deleted reply target
            if message_thread_id is not None and chat.is_forum:
                topic = self._topics.get((chat.id, message_thread_id))
                if topic is None or topic.deleted:
                    raise ValueError(f"no open topic {message_thread_id} to post in")
                if topic.closed and user_id not in self._admins:
                    raise TopicClosed(
                        f"topic {message_thread_id} is closed: only admins write there"
                    )
            key = self._store_message(
                chat,
                sender=self._human(user_id, first_name, username),
                thread_id=message_thread_id,
                reply_key=reply_key,
                content=content,
            )
            return {"message": self._render(key)}

    def _store_message(
        self,
        chat: FakeChat,
        *,
        sender: dict[str, Any],
        thread_id: int | None,
        reply_key: tuple[int, int] | None,
        content: dict[str, Any],
    ) -> tuple[int, int]:
        message_id = next(self._message_ids[chat.id])
        key = (chat.id, message_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
                if reply_key is None and (chat.id, thread_id) in self._messages:
                    # Telegram: a topic message "replies" to the topic's creation.
                    reply_key = (chat.id, thread_id)
        message.update(content)
        self._messages[key] = message
        if reply_key is not None:
            self._replies[key] = reply_key
        return key

    def _render(self, key: tuple[int, int], *, nested: bool = True) -> dict[str, Any]:
        message = json.loads(json.dumps(self._messages[key]))
        reply_key = self._replies.get(key)
        if nested and reply_key is not None and reply_key not in self._deleted:
            message["reply_to_message"] = self._render(reply_key, nested=False)
        return message

    def _store_file(
        self,
        content: bytes,
        *,
        file_size: int | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
    ) -> StoredFile:
        number = next(self._file_numbers)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=f"FAKE-{folder}-{number:06d}-file-id",
            file_unique_id=f"fake-unique-{number:06d}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            filename=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def _photo_size(
        self, content: bytes, file_size: int | None, width: int, height: int
    ) -> dict[str, Any]:
        stored = self._store_file(
            content, file_size=file_size, mime_type="image/jpeg", folder="photos"
        )
        return {**_file_fields(stored), "width": width, "height": height}

    # --- Validation shared by methods --------------------------------------------

    def _chat(self, params: _Params, *, writing: bool = True) -> FakeChat:
        value = params.values.get("chat_id")
        if value is None or value == "":
            raise _bad_request("chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            chat = self._chats.get(value)
        elif isinstance(value, str) and value.startswith("@"):
            chat = next(
                (c for c in self._chats.values() if f"@{c.username}" == value), None
            )
        if chat is None:
            raise _bad_request("chat not found")
        if chat.id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat.id]},
            )
        if writing:
            if chat.type == "private" and chat.id in self._blocked_by:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            status = self._bot_member["status"]
            if chat.type != "private" and status == "kicked":
                raise ApiError(
                    403, f"Forbidden: bot was kicked from the {chat.type} chat"
                )
            if chat.type != "private" and status == "left":
                raise ApiError(
                    403, f"Forbidden: bot is not a member of the {chat.type} chat"
                )
        return chat

    def _bot_can(self, right: str) -> bool:
        return self._bot_member["status"] == "administrator" and bool(
            self._bot_member.get(right)
        )

    def _message_key(self, chat: FakeChat, message_id: int) -> tuple[int, int] | None:
        key = (chat.id, message_id)
        if key in self._messages and key not in self._deleted:
            return key
        return None

    def _reply_key(self, chat: FakeChat, params: _Params) -> tuple[int, int] | None:
        reply = params.structure("reply_parameters")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(
                reply.get("message_id"), int
            ):
                raise _bad_request("can't parse reply parameters JSON object")
            target_chat = chat
            if reply.get("chat_id") not in (None, chat.id):
                target_chat = self._chat(_Params({"chat_id": reply["chat_id"]}, {}))
            message_id = reply["message_id"]
            allow = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.integer("reply_to_message_id")
            target_chat = chat
            allow = params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        key = self._message_key(target_chat, message_id)
        if key is None and not allow:
            raise _bad_request("message to be replied not found")
        return key

    def _thread_id(
        self, chat: FakeChat, params: _Params, reply_key: tuple[int, int] | None
    ) -> int | None:
        thread_id = params.integer("message_thread_id")
        if thread_id is None and reply_key is not None and reply_key[0] == chat.id:
            thread_id = self._messages[reply_key].get("message_thread_id")
        if thread_id is None:
            return None
        if not chat.is_forum:
            if self._message_key(chat, thread_id) is None:
                raise _bad_request("message thread not found")
            return thread_id
        topic = self._topics.get((chat.id, thread_id))
        if topic is None or topic.deleted:
            raise _bad_request("message thread not found")
        if topic.closed and not self._bot_can("can_manage_topics"):
            raise _bad_request("TOPIC_CLOSED")
        return thread_id

    def _formatted(
        self, params: _Params, name: str, entities_name: str
    ) -> tuple[str, list[dict[str, Any]]]:
        text = params.text(name) or ""
        parse_mode = params.text("parse_mode")
        if not parse_mode:
            entities = params.structure(entities_name) or []
            if not isinstance(entities, list):
                raise _bad_request(f"can't parse {entities_name} JSON object")
            return text, entities
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_html(text)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        if mode in {"markdown", "markdownv2"}:
            return text, []  # markup not interpreted by the fake
        raise _bad_request("unsupported parse_mode")

    def _message_text(self, params: _Params) -> dict[str, Any]:
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_length(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return content

    def _caption(self, params: _Params) -> dict[str, Any]:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if _utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        content: dict[str, Any] = {}
        if caption.strip():
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    def _send(self, params: _Params, content_of: Callable[[], dict[str, Any]]) -> Any:
        chat = self._chat(params)
        content = content_of()
        reply_key = self._reply_key(chat, params)
        thread_id = self._thread_id(chat, params, reply_key)
        markup = params.structure("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        key = self._store_message(
            chat,
            sender=BOT_USER,
            thread_id=thread_id,
            reply_key=reply_key,
            content=content,
        )
        self._sent.append(key)
        return self._render(key)

    def _input_file(
        self, params: _Params, name: str, *, mime_type: str, folder: str
    ) -> tuple[StoredFile, UploadedFile | None]:
        value = params.values.get(name)
        upload = params.files.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = params.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is not None:
            stored = self._store_file(
                upload.content,
                filename=upload.filename,
                mime_type=(
                    upload.content_type
                    if upload.content_type not in (None, "application/octet-stream")
                    else mime_type
                ),
                folder=folder,
            )
            return stored, upload
        if value is None or value == "":
            raise _bad_request(f"there is no {name} in the request")
        if isinstance(value, str) and value in self._files:
            return self._files[value], None
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _topic(self, params: _Params) -> tuple[FakeChat, Topic]:
        chat = self._chat(params)
        if not chat.is_forum:
            raise _bad_request("the chat is not a forum")
        if not self._bot_can("can_manage_topics"):
            raise _bad_request("not enough rights to manage topics")
        topic = self._topics.get(
            (chat.id, params.required_integer("message_thread_id"))
        )
        if topic is None or topic.deleted:
            raise _bad_request("TOPIC_ID_INVALID")
        return chat, topic

    def _topic_service(
        self, chat: FakeChat, topic: Topic, content: dict[str, Any]
    ) -> None:
        self._store_message(
            chat,
            sender=BOT_USER,
            thread_id=topic.message_thread_id,
            reply_key=None,
            content=content,
        )

    # --- Bot API methods ---------------------------------------------------------

    def _get_me(self, params: _Params) -> Any:
        return dict(GET_ME)

    def _ok(self, params: _Params) -> Any:
        return True

    def _delete_webhook(self, params: _Params) -> Any:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: _Params) -> Any:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _get_chat(self, params: _Params) -> Any:
        return self._chat(params, writing=False).full_info()

    def _get_chat_member(self, params: _Params) -> Any:
        chat = self._chat(params, writing=False)
        user_id = params.required_integer("user_id")
        if user_id == BOT_ID:
            member = {**self._bot_member, "user": dict(BOT_USER)}
            if member["status"] == "kicked":
                member["until_date"] = 0
            return member
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": "?"}
            return {
                "status": "left" if chat.type != "private" else "member",
                "user": user,
            }
        return {"status": "member", "user": user}

    def _send_message(self, params: _Params) -> Any:
        return self._send(params, lambda: self._message_text(params))

    def _send_photo(self, params: _Params) -> Any:
        def content() -> dict[str, Any]:
            stored, _ = self._input_file(
                params, "photo", mime_type="image/jpeg", folder="photos"
            )
            thumbnail = self._photo_size(stored.content, None, 90, 67)
            full = {**_file_fields(stored), "width": 1280, "height": 960}
            return {"photo": [thumbnail, full], **self._caption(params)}

        return self._send(params, content)

    def _send_voice(self, params: _Params) -> Any:
        def content() -> dict[str, Any]:
            stored, _ = self._input_file(
                params, "voice", mime_type="audio/ogg", folder="voice"
            )
            voice = {
                **_file_fields(stored),
                "duration": params.integer("duration") or 1,
            }
            return {"voice": voice, **self._caption(params)}

        return self._send(params, content)

    def _send_audio(self, params: _Params) -> Any:
        def content() -> dict[str, Any]:
            stored, _ = self._input_file(
                params, "audio", mime_type="audio/mpeg", folder="music"
            )
            audio = {
                **_file_fields(stored),
                "duration": params.integer("duration") or 1,
            }
            for name in ("title", "performer"):
                if params.text(name):
                    audio[name] = params.text(name)
            if stored.filename:
                audio["file_name"] = stored.filename
            return {"audio": audio, **self._caption(params)}

        return self._send(params, content)

    def _send_document(self, params: _Params) -> Any:
        def content() -> dict[str, Any]:
            stored, _ = self._input_file(
                params,
                "document",
                mime_type="application/octet-stream",
                folder="documents",
            )
            document = _file_fields(stored)
            if stored.filename:
                document["file_name"] = stored.filename
            return {"document": document, **self._caption(params)}

        return self._send(params, content)

    def _edit_message_text(self, params: _Params) -> Any:
        if params.values.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake")
        chat = self._chat(params)
        key = self._message_key(chat, params.required_integer("message_id"))
        if key is None:
            raise _bad_request("message to edit not found")
        message = self._messages[key]
        if message["from"]["id"] != BOT_ID:
            raise _bad_request("message can't be edited")
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        content = self._message_text(params)
        markup = params.structure("reply_markup")
        if (
            content["text"] == message["text"]
            and content.get("entities", []) == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _bad_request(NOT_MODIFIED)
        message.pop("entities", None)
        message.update(content)
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return self._render(key)

    def _delete_message(self, params: _Params) -> Any:
        chat = self._chat(params)
        key = self._message_key(chat, params.required_integer("message_id"))
        if key is None:
            raise _bad_request("message to delete not found")
        is_own = self._messages[key]["from"]["id"] == BOT_ID
        if (
            not is_own
            and chat.type != "private"
            and not self._bot_can("can_delete_messages")
        ):
            raise _bad_request("message can't be deleted")
        self._deleted.append(key)
        return True

    def _create_forum_topic(self, params: _Params) -> Any:
        chat = self._chat(params)
        if not chat.is_forum:
            raise _bad_request("the chat is not a forum")
        if not self._bot_can("can_manage_topics"):
            raise _bad_request("not enough rights to create a topic")
        name = (params.text("name") or "").strip()
        if not name:
            raise _bad_request("TOPIC_TITLE_EMPTY")
        if _utf16_length(name) > 128:
            raise _bad_request("TOPIC_TITLE_TOO_LONG")
        icon_color = params.integer("icon_color") or DEFAULT_ICON_COLOR
        if icon_color not in TOPIC_ICON_COLORS:
            raise _bad_request("invalid icon_color specified")
        emoji = params.text("icon_custom_emoji_id") or None
        message_id = next(self._message_ids[chat.id])
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        self._messages[(chat.id, message_id)] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": chat.to_api(),
            "date": int(time.time()),
            "message_thread_id": message_id,
            "is_topic_message": True,
            "forum_topic_created": created,
        }
        topic = Topic(chat.id, message_id, name, icon_color, emoji)
        self._topics[(chat.id, message_id)] = topic
        return topic.to_api()

    def _edit_forum_topic(self, params: _Params) -> Any:
        chat, topic = self._topic(params)
        name = params.text("name")
        emoji = params.text("icon_custom_emoji_id")
        if name is not None and not name.strip():
            raise _bad_request("TOPIC_TITLE_EMPTY")
        changed = {
            key: value
            for key, value in (("name", name), ("icon_custom_emoji_id", emoji))
            if value is not None and value != getattr(topic, key)
        }
        if not changed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        for key, value in changed.items():
            setattr(topic, key, value)
        self._topic_service(chat, topic, {"forum_topic_edited": changed})
        return True

    def _close_forum_topic(self, params: _Params) -> Any:
        chat, topic = self._topic(params)
        if topic.closed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        self._topic_service(chat, topic, {"forum_topic_closed": {}})
        return True

    def _reopen_forum_topic(self, params: _Params) -> Any:
        chat, topic = self._topic(params)
        if not topic.closed:
            raise _bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        self._topic_service(chat, topic, {"forum_topic_reopened": {}})
        return True

    def _delete_forum_topic(self, params: _Params) -> Any:
        chat, topic = self._topic(params)
        topic.deleted = True
        for key, message in self._messages.items():
            if (
                key[0] == chat.id
                and message.get("message_thread_id") == topic.message_thread_id
                and key not in self._deleted
            ):
                self._deleted.append(key)
        return True

    def _send_chat_action(self, params: _Params) -> Any:
        chat = self._chat(params)
        action = params.text("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        thread_id = self._thread_id(chat, params, None)
        self._chat_actions.append((chat.id, action, thread_id))
        return True

    def _set_message_reaction(self, params: _Params) -> Any:
        chat = self._chat(params)
        key = self._message_key(chat, params.required_integer("message_id"))
        if key is None:
            raise _bad_request("MESSAGE_ID_INVALID")
        reaction = params.structure("reaction") or []
        if not isinstance(reaction, list) or not all(
            isinstance(item, dict)
            and item.get("type") in {"emoji", "custom_emoji", "paid"}
            for item in reaction
        ):
            raise _bad_request("REACTION_INVALID")
        self._reactions.append((chat.id, key[1], reaction))
        return True

    def _set_my_commands(self, params: _Params) -> Any:
        commands = params.structure("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not (
                isinstance(command, dict)
                and re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", "")))
                and 1 <= len(str(command.get("description", ""))) <= 256
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
        key = _scope_key(params.structure("scope"), params.text("language_code") or "")
        self._commands[key] = commands
        return True

    def _get_my_commands(self, params: _Params) -> Any:
        key = _scope_key(params.structure("scope"), params.text("language_code") or "")
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: _Params) -> Any:
        key = _scope_key(params.structure("scope"), params.text("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _get_file(self, params: _Params) -> Any:
        file_id = params.text("file_id")
        if not file_id:
            raise _bad_request("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > self.max_download_size:
            raise _bad_request("file is too big")
        return {**_file_fields(stored), "file_path": stored.file_path}


# Bot API method -> FakeBotApi handler. getUpdates is served apart (it waits).
_METHODS = {
    "getUpdates": "",
    "getMe": "_get_me",
    "logOut": "_ok",
    "close": "_ok",
    "deleteWebhook": "_delete_webhook",
    "getWebhookInfo": "_get_webhook_info",
    "getChat": "_get_chat",
    "getChatMember": "_get_chat_member",
    "sendMessage": "_send_message",
    "sendPhoto": "_send_photo",
    "sendVoice": "_send_voice",
    "sendAudio": "_send_audio",
    "sendDocument": "_send_document",
    "editMessageText": "_edit_message_text",
    "deleteMessage": "_delete_message",
    "createForumTopic": "_create_forum_topic",
    "editForumTopic": "_edit_forum_topic",
    "closeForumTopic": "_close_forum_topic",
    "reopenForumTopic": "_reopen_forum_topic",
    "deleteForumTopic": "_delete_forum_topic",
    "sendChatAction": "_send_chat_action",
    "setMessageReaction": "_set_message_reaction",
    "setMyCommands": "_set_my_commands",
    "getMyCommands": "_get_my_commands",
    "deleteMyCommands": "_delete_my_commands",
    "getFile": "_get_file",
}
# Telegram matches method names case-insensitively.
_METHODS_BY_LOWER_NAME = {name.lower(): name for name in _METHODS}


def _file_fields(stored: StoredFile) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.file_size,
    }
    if stored.mime_type and not stored.file_path.startswith("photos/"):
        fields["mime_type"] = stored.mime_type
    return fields


def _with_caption(content: dict[str, Any], caption: str | None) -> dict[str, Any]:
    return {**content, "caption": caption} if caption else content


def _has_media(message: dict[str, Any]) -> bool:
    return any(kind in message for kind in ("photo", "voice", "audio", "document"))


def _update_kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _scope_key(scope: Any, language_code: str) -> tuple[str, str]:
    if not scope:
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True), language_code


def _shorten(params: dict[str, Any], width: int = 160) -> str:
    text = json.dumps(params, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def run_fake_bot_api(**options: Any) -> Iterator[FakeBotApi]:
    """Fixture body: a started FakeBotApi, stopped afterwards.

    ``fake_bot_api = pytest.fixture(run_fake_bot_api)`` or ``yield from`` it."""
    fake = FakeBotApi(**options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


__all__ = [
    "ApiError",
    "BOT_ID",
    "BOT_USERNAME",
    "Call",
    "DEFAULT_TOKEN",
    "FakeBotApi",
    "FakeChat",
    "OPERATOR_CHAT_ID",
    "StoredFile",
    "Topic",
    "TopicClosed",
    "UploadedFile",
    "parse_html",
    "run_fake_bot_api",
]
