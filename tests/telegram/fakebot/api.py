"""``FakeBotApi``: the server a test starts, configures, breaks and observes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from tests.telegram.fakebot.errors import (
    ApiError,
    injected,
    not_found,
    too_many_requests,
)
from tests.telegram.fakebot.flood import TELEGRAM, FloodControl, FloodRules, Violation
from tests.telegram.fakebot.methods import METHODS, call
from tests.telegram.fakebot.private import PrivateChats
from tests.telegram.fakebot.server import (
    HttpServer,
    Params,
    Response,
    json_response,
    parse_request,
)
from tests.telegram.fakebot.state import OPERATOR_CHAT_ID, Call, Chat, State, Topic
from tests.telegram.fakebot.updates import OperatorChat, UpdateQueue

T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-token-for-the-fake-api-only"
DOWNLOAD = "downloadFile"  # the file server's downloads, recorded as calls
# Telegram matches method names case-insensitively.
_CANONICAL = {name.lower(): name for name in [*METHODS, "getUpdates", DOWNLOAD]}


class FakeBotApi(PrivateChats, OperatorChat):
    """A Bot API server for one bot and its operator chat, on 127.0.0.1; all state
    under one lock, and ``wait_for`` wakes on every call and push."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        chat_id: int = OPERATOR_CHAT_ID,
        chat_type: str = "supergroup",
        is_forum: bool = True,
        flood: FloodRules = TELEGRAM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.chat_id = chat_id
        self._clock = clock
        self._flood = FloodControl(flood, clock)
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._server: HttpServer | None = None
        self._state = State()
        self._updates = UpdateQueue(self._cond, self._stopping)
        self._calls: list[Call] = []
        self._faults: dict[str, deque[ApiError]] = {}
        self._delays: dict[str, deque[float]] = {}
        self.add_chat(chat_id, type=chat_type, title="Support", is_forum=is_forum)

    # --- Lifecycle ---------------------------------------------------------------

    def start(self) -> FakeBotApi:
        if self._server is not None:
            raise RuntimeError("the fake Bot API is already running")
        self._stopping.clear()
        self._server = HttpServer(self._handle, self._stopping)
        return self

    def stop(self) -> None:
        """Stop serving; waiting long polls and delayed answers return at once."""
        if self._server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._server.close()
        self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    @property
    def _port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Bot API is not running")
        return self._server.port

    # --- Configuration -----------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str = "supergroup",  # noqa: A002 - the Bot API's name
        title: str | None = None,
        is_forum: bool = False,
        first_name: str | None = None,
    ) -> None:
        with self._cond:
            self._state.add_chat(Chat(chat_id, type, title, is_forum, first_name))

    def set_bot_member(self, status: str = "administrator", **rights: bool) -> None:
        """The bot in every group: ``administrator`` (all rights unless ``rights``
        say otherwise, e.g. ``can_manage_topics=False``), ``member``, ``left`` or
        ``kicked``."""
        with self._cond:
            self._state.bot_status, self._state.bot_rights = status, rights

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """The group was upgraded to the supergroup ``new_chat_id``: calls naming the
        old id are answered 400 with ``parameters.migrate_to_chat_id``."""
        with self._cond:
            title = self._state.chats[chat_id].title
            self._state.migrated[chat_id] = new_chat_id
            self._state.add_chat(Chat(new_chat_id, "supergroup", title))

    # --- Fault injection ---------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error, before any
        effect. A 429 carries ``retry_after`` (default 1) and starts a flood wait.
        ``downloadFile`` stands for the file server."""
        error = injected(
            status,
            retry_after=retry_after,
            description=description,
            migrate_to_chat_id=migrate_to_chat_id,
        )
        with self._cond:
            faults = self._faults.setdefault(_canonical(method), deque())
            faults.extend([error] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late. The call
        takes effect at once; only the answer is late, as when Telegram has sent a
        message but the client timed out waiting for the response."""
        with self._cond:
            delays = self._delays.setdefault(_canonical(method), deque())
            delays.extend([seconds] * times)

    # --- Inspection --------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            if method is None:
                return list(self._calls)
            method = _canonical(method)
            return [call for call in self._calls if call.method == method]

    def sent_messages(
        self, chat_id: int | None = None, thread_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The messages the bot sent and that were not deleted, in order."""
        with self._cond:
            state = self._state
            return [
                state.render(key)
                for key in state.sent
                if key not in state.deleted
                and chat_id in (None, key[0])
                and thread_id in (None, state.messages[key].get("message_thread_id"))
            ]

    @property
    def topics(self) -> dict[int, Topic]:
        """The operator chat's topics by message_thread_id (copies)."""
        with self._cond:
            return {
                thread_id: replace(topic)
                for (chat_id, thread_id), topic in self._state.topics.items()
                if chat_id == self.chat_id
            }

    @property
    def flood_violations(self) -> list[Violation]:
        """Calls made while their chat (or method) was in a flood wait."""
        with self._cond:
            return list(self._flood.violations)

    @property
    def reactions(self) -> list[tuple[int, int, list[dict[str, Any]]]]:
        """(chat_id, message_id, reaction) per setMessageReaction."""
        with self._cond:
            return list(self._state.reactions)

    @property
    def chat_actions(self) -> list[tuple[int, str, int | None]]:
        """(chat_id, action, message_thread_id) per sendChatAction."""
        with self._cond:
            return list(self._state.chat_actions)

    @property
    def confirmed_offset(self) -> int:
        """The highest offset a getUpdates call has confirmed (0 before any)."""
        with self._cond:
            return self._updates.confirmed_offset

    def wait_for(self, predicate: Callable[[FakeBotApi], T], timeout: float = 5.0) -> T:
        """Block until ``predicate(self)`` is truthy (checked again on every call and
        push) and return it; a LookupError in it counts as not yet. Raises
        AssertionError listing the last calls on timeout."""
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
                    last = "\n".join(
                        f"  {c.method} -> {c.status}: {_shorten(c.params)}"
                        for c in self._calls[-20:]
                    )
                    raise AssertionError(
                        f"condition not met within {timeout} s; last calls:\n{last}"
                    )
                self._cond.wait(remaining)

    async def wait_for_async(
        self, predicate: Callable[[FakeBotApi], T], timeout: float = 5.0
    ) -> T:
        """``wait_for`` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    # --- Serving -----------------------------------------------------------------

    def _handle(self, raw_path: str, content_type: str, body: bytes) -> Response:
        url = urlsplit(raw_path)
        path = unquote(url.path)
        if path.startswith("/file/bot"):
            return self._download(path.removeprefix("/file/bot"))
        token, _, name = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or token != self.token or not name:
            return json_response(not_found().payload(), 404)
        method = _CANONICAL.get(name.lower(), name)
        with self._cond:
            record = Call(method, {}, {}, self._clock())
            self._calls.append(record)
            try:
                record.params, record.files = parse_request(
                    url.query, content_type, body
                )
                if method not in METHODS and method != "getUpdates":
                    raise not_found()
                result = self._call(method, Params(record.params, record.files))
            except ApiError as error:
                return self._answer(record, error)
            return self._answer(record, result)

    def _call(self, method: str, params: Params) -> Any:
        """The method run, once Telegram's flood control and the faults a test
        queued have let it through."""
        chat_id = params.values.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            chat_id = None
        chat = self._state.chats.get(chat_id) if chat_id is not None else None
        is_group = chat is not None and chat.is_group
        retry_after = self._flood.refusal(method, chat_id, is_group)
        if retry_after is not None:
            raise too_many_requests(retry_after)
        fault = self._take_fault(method)
        if fault is not None:
            if fault.status == 429 and fault.parameters:
                self._flood.refused(method, chat_id, fault.parameters["retry_after"])
            raise fault
        if method == "getUpdates":
            return self._updates.poll(params)  # waits, the lock released
        result = call(self._state, method, params)
        self._flood.accepted(method, chat_id, is_group)
        return result

    def _take_fault(self, method: str) -> ApiError | None:
        faults = self._faults.get(method)
        return faults.popleft() if faults else None

    def _answer(self, record: Call, outcome: Any) -> Response:
        if isinstance(outcome, ApiError):
            payload = outcome.payload()
            response = json_response(payload, outcome.status)
        else:
            payload = {"ok": True, "result": outcome}
            response = json_response(payload)
        record.status, record.response = response.status, payload
        delays = self._delays.get(record.method)
        if delays:
            response.delay = delays.popleft()
        self._cond.notify_all()
        return response

    def _download(self, rest: str) -> Response:
        token, _, file_path = rest.partition("/")
        with self._cond:
            record = Call(DOWNLOAD, {"file_path": file_path}, {}, self._clock())
            self._calls.append(record)
            fault = self._take_fault(DOWNLOAD)
            stored = next(
                (f for f in self._state.files.values() if f.file_path == file_path),
                None,
            )
            if fault is None and (token != self.token or stored is None):
                fault = not_found()
            if fault is not None:
                return self._answer(record, fault)
            assert stored is not None
            record.status, record.response = 200, f"<{len(stored.content)} bytes>"
            self._cond.notify_all()
            content_type = stored.mime_type or "application/octet-stream"
            return Response(200, stored.content, content_type)


def _canonical(method: str) -> str:
    canonical = _CANONICAL.get(method.lower())
    if canonical is None:
        raise ValueError(f"the fake Bot API has no method {method!r}")
    return canonical


def _shorten(params: dict[str, Any], width: int = 160) -> str:
    text = json.dumps(params, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
