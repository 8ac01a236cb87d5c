"""Structured logs: ids, JSON lines, redaction, and log calls that carry no secrets."""

from __future__ import annotations

import ast
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from chatsite.asgi import application
from realtime.logs import (
    ContextFilter,
    JsonFormatter,
    TextFormatter,
    request_id_var,
)
from realtime.middleware import WebSocketMiddleware

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    """A logger whose lines go, through our filter and JSON formatter, to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.ops.captured")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- Formatters -----------------------------------------------------------------------


def test_json_lines_carry_time_level_logger_message_and_request_id(
    captured: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, _handler = captured
    logger.info("outside any request")
    token = request_id_var.set("req-12345678")
    try:
        logger.warning("thread %s closed by %s", 12, "ayse")
    finally:
        request_id_var.reset(token)
    outside, inside = _lines(stream)
    assert "request_id" not in outside and "connection_id" not in outside
    assert inside["level"] == "warn"  # the levels Railway's log explorer knows
    assert inside["logger"] == "tests.ops.captured"
    assert inside["message"] == "thread 12 closed by ayse"
    assert inside["request_id"] == "req-12345678"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", inside["time"])


def test_a_bot_token_in_the_arguments_is_not_written(
    captured: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = captured
    url = f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates"
    logger.warning("request failed: %s", url)
    try:
        raise ConnectionError(f"cannot reach {url} with postgres://u:pa55@db/x")
    except ConnectionError:
        logger.exception("bridge step failed")
    handler.setFormatter(TextFormatter())
    logger.warning("again: %s", url)

    written = stream.getvalue()
    assert BOT_TOKEN not in written and "pa55" not in written
    first, second = _lines(io.StringIO("\n".join(written.splitlines()[:2])))
    assert (
        first["message"]
        == "request failed: https://api.telegram.org/bot[redacted]/getUpdates"
    )
    assert "ConnectionError" in second["exc"] and "[redacted]" in second["exc"]
    assert "again: https://api.telegram.org/bot[redacted]/getUpdates" in written


def test_the_text_format_shows_the_ids() -> None:
    record = logging.LogRecord("chat", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "abcdef12"
    record.connection_id = None
    line = TextFormatter().format(record)
    assert line.endswith(" INFO chat [request=abcdef12] hello")


# --- Request and connection ids -------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client: Client) -> None:
    response = client.get("/healthz/no-such-page/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    other = client.get("/healthz/no-such-page/")
    assert other["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("0f9c2d7e-4b1a-4c3e-9f1d-2a7b6c5d4e3f", True),
        ("a3f1c0de9b8a7f6e", True),
        ("short", False),
        ("x" * 65, False),
        ("abc def 123456", False),
        ('abcd"1234567', False),
        ("abcdef123456\n", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_plain(
    client: Client, incoming: str, kept: bool
) -> None:
    response = client.get("/", HTTP_X_REQUEST_ID=incoming)
    assert (response["X-Request-ID"] == incoming) is kept
    assert re.fullmatch(r"[A-Za-z0-9-]{8,64}", response["X-Request-ID"])


@pytest.mark.django_db
def test_railways_request_id_is_used_when_there_is_no_x_request_id(
    client: Client,
) -> None:
    railway = client.get("/", HTTP_X_RAILWAY_REQUEST_ID="rw-0123456789abcdef")
    assert railway["X-Request-ID"] == "rw-0123456789abcdef"
    both = client.get(
        "/",
        HTTP_X_REQUEST_ID="nginx-00000001",
        HTTP_X_RAILWAY_REQUEST_ID="rw-1234567890",
    )
    assert both["X-Request-ID"] == "nginx-00000001"


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(
    client: Client,
    settings: Any,
    closed_port: int,
    captured: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    _logger, stream, handler = captured
    health_logger = logging.getLogger("chatsite.health")
    health_logger.addHandler(handler)
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
    }
    settings.CACHES = {"default": unreachable, "ratelimit": unreachable}
    try:
        response = client.get("/health/", HTTP_X_REQUEST_ID="trace-0000-1111")
    finally:
        health_logger.removeHandler(handler)
    assert response.status_code == 503
    lines = _lines(stream)
    assert any(
        line["message"].startswith("health check cache failed") for line in lines
    )
    assert {line["request_id"] for line in lines} == {"trace-0000-1111"}


@pytest.mark.django_db
def test_djangos_own_line_for_an_error_response_carries_the_request_id(
    client: Client, captured: tuple[logging.Logger, io.StringIO, logging.Handler]
) -> None:
    _logger, stream, handler = captured
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/")
    finally:
        request_logger.removeHandler(handler)
    assert response.status_code == 404
    (line,) = _lines(stream)
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == response["X-Request-ID"]


async def test_each_socket_gets_its_own_connection_id(
    captured: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, _handler = captured

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        logger.info("connected")

    wrapped = WebSocketMiddleware(app)
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    scope = {"type": "websocket", "headers": headers}
    await wrapped(scope, None, None)
    await wrapped(scope, None, None)
    logger.info("after")

    first, second, after = _lines(stream)
    assert re.fullmatch(r"[0-9a-f]{32}", first["connection_id"])
    assert first["connection_id"] != second["connection_id"]
    assert "connection_id" not in after


def test_websockets_go_through_the_connection_id_middleware() -> None:
    assert isinstance(application.application_mapping["websocket"], WebSocketMiddleware)


# --- What our code logs ---------------------------------------------------------------

LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Names that hold a message body, a code or a token, whole or as a word of the name
# (body, message_body, login_code, token_hash, bot_token, password...). Counts of
# them (``login_code_count``) are fine.
FORBIDDEN_WORDS = {
    "body",
    "bodies",
    "code",
    "codes",
    "token",
    "tokens",
    "password",
    "secret",
}


def _log_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"logger", "logging", "log"}
        ):
            yield node


def _names_in(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Attribute):
            yield child.attr
        elif isinstance(child, ast.keyword) and child.arg:
            yield child.arg


def test_log_calls_never_pass_bodies_codes_or_tokens() -> None:
    problems = []
    calls = 0
    for package in ("chatsite", "chat", "accounts", "telegram_bridge"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for call in _log_calls(ast.parse(path.read_text(), filename=str(path))):
                calls += 1
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                args = call.args[1:] if call.func.attr == "log" else call.args
                if not args or not (
                    isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
                ):
                    problems.append(f"{where}: the message is not a plain string")
                for arg in [*args[1:], *call.keywords]:
                    for name in _names_in(arg):
                        words = name.lower().split("_")
                        if words[-1] != "count" and set(words) & FORBIDDEN_WORDS:
                            problems.append(f"{where}: passes {name!r}")
    assert calls > 20  # the scan does find our log calls
    assert problems == []
