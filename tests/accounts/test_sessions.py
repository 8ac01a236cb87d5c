"""Operators' sessions end after a short idle time; visitors keep theirs; production
cookies are ``__Host-`` ones; a session's key is rotated when it gains rights."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.sessions import ACTIVE_AT_SESSION_KEY
from chat import services as chat_services
from chat.models import Visitor
from tests.conftest import Socket, open_socket
from tests.deploy.servers import ROOT

EIGHT_HOURS = 8 * 60 * 60
THIRTY_DAYS = 30 * 24 * 60 * 60


def store(key: str) -> Any:
    return import_module(django_settings.SESSION_ENGINE).SessionStore(key)


def seconds_left(key: str) -> float:
    row = Session.objects.get(session_key=key)
    return (row.expire_date - timezone.now()).total_seconds()


def age_an_operator_session(key: str, *, idle_for: float, left: int) -> None:
    """As if the operator was last active ``idle_for`` seconds ago and their session
    ends in ``left`` seconds."""
    session = store(key)
    session[ACTIVE_AT_SESSION_KEY] = time.time() - idle_for
    session.set_expiry(left)
    session.save()


# --- Idle timeout ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_operator_session_lasts_the_idle_time_and_a_visitors_thirty_days(
    operator: Any,
) -> None:
    browser = Client()
    browser.force_login(operator)
    response = browser.get("/admin/")
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == EIGHT_HOURS
    assert EIGHT_HOURS - 60 < seconds_left(cookie.value) <= EIGHT_HOURS
    visitor = Client().get("/").cookies[django_settings.SESSION_COOKIE_NAME]
    assert int(visitor["max-age"]) == THIRTY_DAYS


@pytest.mark.django_db
def test_an_operators_activity_pushes_the_deadline_and_idleness_signs_out(
    operator: Any,
) -> None:
    browser = Client()
    browser.force_login(operator)
    key = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    age_an_operator_session(key, idle_for=5 * 60, left=60 * 60)
    assert browser.get("/admin/").status_code == 200
    assert seconds_left(key) > EIGHT_HOURS - 60  # pushed back to eight hours
    # Eight idle hours later the session is gone: sign in again.
    age_an_operator_session(key, idle_for=EIGHT_HOURS, left=1)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    store(key)._cache.delete(store(key).cache_key)  # the cache expires with it
    response = browser.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
async def test_working_in_the_inbox_keeps_the_session_and_pings_do_not(
    make_operator: Any, sockets: list[Socket]
) -> None:
    user = await make_operator()
    client = Client()
    await sync_to_async(client.force_login)(user)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    _visitor, thread = await sync_to_async(chat_services.start_visitor)(
        session_key="s" * 32
    )
    socket, _ = await open_socket("/ws/operator/", cookie=key)
    sockets.append(socket)
    await socket.receive_type("hello")
    await sync_to_async(age_an_operator_session)(key, idle_for=5 * 60, left=600)
    await socket.send(type="ping")
    await socket.receive_type("pong")
    assert await sync_to_async(seconds_left)(key) <= 600  # the page by itself
    await socket.send(type="typing", thread=thread.pk, active=True)
    await socket.send(type="ping")
    await socket.receive_type("pong")
    assert await sync_to_async(seconds_left)(key) > EIGHT_HOURS - 60


@pytest.mark.django_db(transaction=True)
async def test_an_inbox_left_idle_closes_when_its_session_ends(
    make_operator: Any, sockets: list[Socket]
) -> None:
    user = await make_operator()
    client = Client()
    await sync_to_async(client.force_login)(user)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    socket, _ = await open_socket("/ws/operator/", cookie=key)
    sockets.append(socket)
    await socket.receive_type("hello")
    await sync_to_async(Session.objects.filter(session_key=key).update)(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    await socket.send(type="ping")
    await socket.receive_type("pong")
    assert await socket.receive_close() == 4001


# --- Cookie names ---------------------------------------------------------------------


def test_production_cookies_are_host_only_secure_cookies() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    }
    env.pop("DATABASE_URL", None)
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_PATH, s.SESSION_COOKIE_DOMAIN,"
        " s.CSRF_COOKIE_PATH, s.CSRF_COOKIE_DOMAIN)"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "/",
        "None",
        "/",
        "None",
    ]


@pytest.fixture
def host_cookies(settings: Any) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True


@pytest.mark.django_db(transaction=True)
async def test_the_chat_works_with_host_cookies(
    host_cookies: None, sockets: list[Socket]
) -> None:
    client = Client()
    page = await sync_to_async(client.get)("/", secure=True)
    session = page.cookies["__Host-sessionid"]
    assert session["secure"] and session["path"] == "/" and not session["domain"]
    assert "__Host-csrftoken" in page.cookies
    assert b'"csrfCookieName": "__Host-csrftoken"' in page.content
    socket, _ = await open_socket_named("__Host-sessionid", session.value)
    sockets.append(socket)
    assert (await socket.receive_type("hello"))["role"] == "visitor"


async def open_socket_named(name: str, value: str) -> tuple[Socket, bool]:
    from channels.testing import WebsocketCommunicator

    from chatsite.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/chat/",
        headers=[
            (b"host", b"localhost"),
            (b"origin", b"http://localhost"),
            (b"cookie", f"{name}={value}".encode()),
        ],
    )
    connected, _ = await communicator.connect(timeout=10)
    return Socket(communicator), connected


# --- Rotation -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_session_from_before_the_host_names_is_adopted_under_a_new_key(
    settings: Any, connect_visitor: Any, sockets: list[Socket]
) -> None:
    # A visitor of the release before ("sessionid"), who wrote.
    before = await connect_visitor(written=True)
    old_key = before.cookie
    visitor_id = before.hello["visitor"]["id"]
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    client = Client()
    client.cookies["sessionid"] = old_key
    page = await sync_to_async(client.get)("/")
    new_key = page.cookies["__Host-sessionid"].value
    assert new_key != old_key
    assert page.cookies["sessionid"].value == ""  # the old cookie is cleared
    # The conversation is the same; the socket opened with the old key reconnects.
    assert await before.receive_close() == 4001
    after, _ = await open_socket_named("__Host-sessionid", new_key)
    sockets.append(after)
    hello = await after.receive_type("hello")
    assert hello["visitor"]["id"] == visitor_id
    assert await sync_to_async(
        Visitor.objects.filter(pk=visitor_id, session_key=new_key).exists
    )()
    # Whoever else knew the old key has nothing.
    stale, _ = await open_socket_named("sessionid", old_key)
    sockets.append(stale)
    assert await stale.receive_close() == 4401


@pytest.mark.django_db(transaction=True)
def test_a_new_session_never_takes_a_key_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # New sessions are not looked up before they are inserted: the insert itself
    # refuses a taken key, and another is drawn.
    import chatsite.sessions

    taken = store(None)
    taken["owner"] = "first"
    taken.create()
    drawn = iter([taken.session_key, "n" * 32])
    monkeypatch.setattr(chatsite.sessions, "get_random_string", lambda *a: next(drawn))
    second = store(None)
    second["owner"] = "second"
    second.create()
    assert second.session_key == "n" * 32
    assert store(taken.session_key).load()["owner"] == "first"
    assert Session.objects.count() == 2
