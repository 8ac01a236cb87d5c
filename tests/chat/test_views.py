from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.test import Client

from chat import views
from tests.conftest import open_socket

pytestmark = pytest.mark.django_db


def test_chat_page_sets_a_session_and_a_strict_csp(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "sessionid" in response.cookies
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert b'id="sohbet-config"' in response.content


def test_each_chat_page_carries_its_own_csrf_token() -> None:
    """The page's HTML is rendered once per process (chat.pages): the token of its
    forms is still each browser's, and passes the CSRF check."""
    pages = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        html = browser.get("/").content.decode()
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
        assert len(tokens) == 1
        pages.append((browser, tokens.pop(), html))
    (first, first_token, first_html), (second, second_token, second_html) = pages
    assert first_token != second_token
    assert first_html.replace(first_token, "") == second_html.replace(second_token, "")
    # Past the CSRF check, the page refuses the POST itself (405); not with the
    # other browser's token (403).
    assert first.post("/", {"csrfmiddlewaretoken": first_token}).status_code == 405
    assert second.post("/", {"csrfmiddlewaretoken": second_token}).status_code == 405
    assert first.post("/", {"csrfmiddlewaretoken": second_token}).status_code == 403


def test_chat_page_is_rate_limited_per_client(
    client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    monkeypatch.setattr(views, "VISITOR_PAGE_RATE", "5/m")  # a short burst: see below
    for _attempt in range(2):
        # django-ratelimit counts in fixed windows: a burst that straddles two
        # proves nothing and is run again (the next one cannot straddle as well).
        caches[settings.RATELIMIT_USE_CACHE].clear()
        statuses = [
            client.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 10.0.0.1").status_code
            for _ in range(5)
        ]
        # The left-most entry is the client's claim; the right-most is the proxy's.
        blocked = client.get("/", HTTP_X_FORWARDED_FOR="9.9.9.9, 10.0.0.1")
        if blocked.status_code == 429:
            break
    assert statuses == [200] * 5
    assert blocked.status_code == 429
    assert client.get("/", HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 200


def test_inbox_requires_a_staff_login(client: Client, django_user_model) -> None:
    response = client.get("/admin/inbox/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    user = django_user_model.objects.create_user("op", password="x", is_staff=True)
    client.force_login(user)
    page = client.get("/admin/inbox/")
    assert page.status_code == 200
    assert b'id="sohbet-inbox-config"' in page.content


def test_pages_and_js_strings_follow_the_browsers_language(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="tr")
    assert page["Content-Language"] == "tr"
    assert "Mesajı gönder" in page.content.decode()
    catalog = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "Okundu" in catalog
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send message" in english


@pytest.mark.django_db(transaction=True)
async def test_socket_errors_are_translated() -> None:
    cookie = await sync_to_async(lambda: Client().get("/").cookies["sessionid"].value)()
    visitor, _ = await open_socket(
        "/ws/chat/", cookie=cookie, extra_headers=[(b"accept-language", b"tr-TR,tr")]
    )
    await visitor.receive_type("hello")
    await visitor.send(type="message.send", client_id="x", body="hi")
    error = await visitor.receive_type("error")
    await visitor.close()
    assert "UUID" in error["detail"] and "olmalı" in error["detail"]


@pytest.mark.django_db(transaction=True)
async def test_refusals_of_the_message_writer_follow_each_sockets_language() -> None:
    """Messages are stored in batches on the writer's thread; a refusal still reaches
    each sender in the language of their own socket."""
    sockets = []
    for language in (b"en", b"tr-TR,tr", b"en"):
        cookie = await sync_to_async(
            lambda: Client().get("/").cookies["sessionid"].value
        )()
        socket, _ = await open_socket(
            "/ws/chat/", cookie=cookie, extra_headers=[(b"accept-language", language)]
        )
        await socket.receive_type("hello")
        sockets.append(socket)
    details = []
    for n, socket in enumerate(sockets):
        await socket.send(
            type="message.send",
            client_id=f"00000000-0000-4000-8000-00000000000{n}",
            body="",
            attachment=999999,
        )
        error = await socket.receive_type("error")
        details.append(error["detail"])
        await socket.close()
    assert details == [
        "This file does not exist or was already sent.",
        "Bu dosya bulunamadı veya zaten gönderilmiş.",
        "This file does not exist or was already sent.",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/favicon.ico",
        "/healthz/",
        "/health/",
        "/jsi18n/",
        "/admin/login/",
        "/admin/inbox/",
        "/admin/chat/thread/",
        "/i18n/setlang/",
    ],
)
def test_head_is_answered_wherever_get_is(client: Client, path: str) -> None:
    # Uptime monitors use HEAD.
    got = client.get(path)
    assert got.status_code in (200, 301, 302)
    head = client.head(path)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.get("Content-Type") == got.get("Content-Type")


def test_head_on_the_login_page_of_a_signed_in_operator_answers_as_get(
    client: Client, django_user_model
) -> None:
    user = django_user_model.objects.create_user("op", password="x", is_staff=True)
    client.force_login(user)
    got, head = client.get("/admin/login/"), client.head("/admin/login/")
    assert got.status_code == head.status_code == 302
    assert got["Location"] == head["Location"] == "/admin/"


def test_head_on_the_chat_page_starts_no_session(client: Client) -> None:
    from django.contrib.sessions.models import Session

    assert client.head("/").status_code == 200
    assert Session.objects.count() == 0


def test_head_on_an_attachment_answers_as_get(
    client: Client, settings, tmp_path
) -> None:
    from chat import services
    from tests.samples import post_every_kind

    settings.MEDIA_ROOT = tmp_path / "media"
    client.get("/")  # the session; the socket makes the visitor, as here:
    visitor, thread = services.start_visitor(session_key=client.session.session_key)
    session = client.session
    session["sohbet_visitor_id"] = visitor.pk
    session.save()
    image = post_every_kind(thread.pk)[0]
    url = f"/attachments/{image.attachment.pk}/{image.attachment.name}"
    got = client.get(url)
    head = client.head(url)
    assert got.status_code == head.status_code == 200
    assert head["Content-Type"] == "image/png"
    assert b"".join(head.streaming_content) == b""
