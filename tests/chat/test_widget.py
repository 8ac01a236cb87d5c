"""The widget's server side: the loader, the frame's headers, the visitor token on
HTTP and on the socket, allowed sites."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from chat.models import Thread, Visitor, WidgetSite
from chat.widget import sites
from realtime import tokens
from tests.conftest import ORIGIN, Socket, _application

pytestmark = pytest.mark.django_db(transaction=True)

# The loader's budget (docs/widget.md): what a host page downloads on every load.
LOADER_BUDGET_GZIP = 8 * 1024


@pytest.fixture(autouse=True)
def _fresh_sites() -> Any:
    sites.forget()
    yield
    sites.forget()


def new_session(client: Client | None = None, token: str | None = None) -> str:
    """The frame's first call: a token (a new session, or the one ``token`` names)."""
    client = client or Client()
    headers = {"HTTP_X_SOHBET_VISITOR": token} if token else {}
    response = client.post(
        "/widget/session/", "{}", content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    assert not response.cookies, "the frame's calls set no cookie"
    return str(response.json()["token"])


async def open_token_socket(token: str, path: str = "/ws/chat/") -> tuple[Any, Any]:
    communicator = WebsocketCommunicator(
        _application(),
        path,
        headers=[(b"host", b"localhost"), ORIGIN],
        subprotocols=["sohbet", "sohbet.token." + token],
    )
    connected, subprotocol = await communicator.connect(timeout=10)
    assert connected
    return Socket(communicator), subprotocol


def test_loader_is_a_small_script_with_the_allowed_sites() -> None:
    response = Client().get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "public" in response["Cache-Control"]
    body = response.content
    assert b"/*CONFIG*/" not in body
    assert b'"sites":["http://localhost:*"]' in body
    assert len(gzip.compress(body, 9)) <= LOADER_BUDGET_GZIP


def test_loader_takes_the_look_set_in_the_admin() -> None:
    from chat import services

    services.update_appearance(
        values={
            "color": "#0f766e",
            "position": "bottom-left",
            "launcher_label_en": "Questions?",
            "launcher_label_tr": "Sorunuz mu var?",
        }
    )
    body = Client().get("/widget.js").content.decode()
    config = json.loads(body[body.rindex("})(") + 3 : body.rindex(");")])
    assert config["look"]["color"] == "#0f766e"
    assert config["look"]["position"] == "left"
    assert config["strings"]["en"]["label"] == "Questions?"
    assert config["strings"]["tr"]["label"] == "Sorunuz mu var?"


def test_frame_may_be_framed_by_allowed_sites_only() -> None:
    client = Client()
    frame = client.get("/widget/frame/?host=http://localhost:8000&lang=tr")
    assert frame.status_code == 200
    policy = frame["Content-Security-Policy"]
    assert "frame-ancestors http://localhost:*" in policy
    assert "X-Frame-Options" not in frame
    assert not frame.cookies, "no session and no CSRF cookie in the frame"
    assert b'lang="tr"' in frame.content
    page = client.get("/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"


@override_settings(SOHBET_WIDGET_SITES=[])
def test_sites_added_in_the_admin_are_allowed() -> None:
    policy = Client().get("/widget/frame/")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    WidgetSite.objects.create(origin="https://*.example.com")
    sites.forget()
    policy = Client().get("/widget/frame/")["Content-Security-Policy"]
    assert "frame-ancestors https://*.example.com" in policy
    assert sites.is_allowed("https://shop.example.com")
    assert not sites.is_allowed("https://example.com")
    assert not sites.is_allowed("http://shop.example.com")


@pytest.mark.parametrize(
    "entry",
    ["example.com", "https://example.com/path", "ftp://example.com", "https://a b.com"],
)
def test_a_site_that_is_not_an_origin_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        sites.normalize(entry)


def test_session_token_names_the_same_session_until_it_is_gone() -> None:
    token = new_session()
    again = new_session(token=token)
    assert tokens.session_key(again) == tokens.session_key(token)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    fresh = new_session(token=forged)
    assert tokens.session_key(fresh) != tokens.session_key(token)


def test_session_needs_json() -> None:
    response = Client().post("/widget/session/", "x", content_type="text/plain")
    assert response.status_code == 415


def test_session_never_hands_out_the_cookie_session() -> None:
    client = Client()
    client.get("/")  # a cookie session (an operator's could be one)
    cookie_key = client.session.session_key
    token = new_session(client)
    assert tokens.session_key(token) != cookie_key


async def test_socket_opened_with_a_token_is_that_visitor() -> None:
    token = await sync_to_async(new_session)()
    socket, subprotocol = await open_token_socket(token)
    try:
        assert subprotocol == "sohbet"
        hello = await socket.receive_type("hello")
        again = await sync_to_async(new_session)(token=token)
        second, _ = await open_token_socket(again)
        assert (await second.receive_type("hello"))["thread"]["id"] == hello["thread"][
            "id"
        ]
        await second.close()
    finally:
        await socket.close()


async def test_the_http_fallback_takes_the_token_too() -> None:
    """Where WebSockets do not get through, the frame's visitor is the same over
    HTTP: the token in X-Sohbet-Visitor on the stream and on each post."""
    from tests.realtime.fallback_client import HttpStream

    token = await sync_to_async(new_session)()
    socket, _ = await open_token_socket(token)
    hello = await socket.receive_type("hello")
    await socket.close()
    stream = await HttpStream(None, token=token).open()
    try:
        assert stream.status == 200
        over_http = await stream.receive_type("hello")
        assert over_http["thread"]["id"] == hello["thread"]["id"]
        await stream.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
        assert (await stream.receive_type("ack"))["seq"] == 1
    finally:
        await stream.close()
    forged = await HttpStream(None, token="abc.def.ghi").open()
    try:
        assert await forged.receive_close() == 4401
    finally:
        await forged.close()


async def test_socket_with_a_forged_token_is_refused() -> None:
    socket, _ = await open_token_socket("abc.def.ghi")
    assert await socket.receive_close() == 4401


async def test_a_token_never_opens_the_operators_socket(make_operator: Any) -> None:
    user = await make_operator()

    @sync_to_async
    def operator_session_key() -> str:
        client = Client()
        client.force_login(user)
        return str(client.session.session_key)

    token = tokens.sign(await operator_session_key())
    socket, _ = await open_token_socket(token, "/ws/operator/")
    assert await socket.receive_close() == 4401


def test_upload_with_a_token_needs_no_csrf_and_the_grant_opens_the_file() -> None:
    from tests.samples import png

    client = Client(enforce_csrf_checks=True)
    answer = client.post(
        "/widget/session/", "{}", content_type="application/json"
    ).json()
    token, grant = answer["token"], answer["grant"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = client.post(
        "/api/uploads/",
        {"file": SimpleUploadedFile("dot.png", png(), "image/png")},
        HTTP_X_SOHBET_VISITOR=token,
    )
    assert upload.status_code == 201, upload.content
    assert not upload.cookies
    url = upload.json()["url"]
    anyone = Client()
    assert anyone.get(url).status_code == 404
    assert anyone.get(url + "?g=" + grant).status_code == 200
    other = Client().post("/widget/session/", "{}", content_type="application/json")
    assert anyone.get(url + "?g=" + other.json()["grant"]).status_code == 404
    assert anyone.get(url + "?g=" + grant[:-1] + "x").status_code == 404


def identify(client: Client, token: str, **fields: Any) -> Any:
    return client.post(
        "/widget/identify/",
        json.dumps(fields),
        content_type="application/json",
        HTTP_X_SOHBET_VISITOR=token,
    )


def good_hash(user_id: str) -> str:
    from chat.services.identity import user_hash

    value = user_hash(user_id)
    assert value is not None
    return value


def test_identify_with_a_good_hash_binds_the_user_on_any_device() -> None:
    laptop, phone = Client(), Client()
    token = new_session(laptop)
    answer = identify(
        laptop, token, user_id="u-42", user_hash=good_hash("u-42"), name="Ada"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["verified"] is True
    rotated = answer.json()["token"]
    assert tokens.session_key(rotated) != tokens.session_key(token)
    user = Visitor.objects.get(external_id="u-42")
    assert user.identity_verified and user.name == "Ada"
    # The phone, another browser: the same visitor and conversation.
    phone_token = new_session(phone)
    answer = identify(phone, phone_token, user_id="u-42", user_hash=good_hash("u-42"))
    assert answer.json()["verified"] is True
    assert Visitor.objects.filter(external_id="u-42").count() == 1
    # The old token opens nothing any more (the key was rotated): a new session.
    assert tokens.session_key(new_session(token=token)) != tokens.session_key(rotated)


def test_identify_again_on_each_page_load_changes_nothing() -> None:
    client = Client()
    token = new_session(client)
    first = identify(client, token, user_id="u-1", user_hash=good_hash("u-1"))
    token = first.json()["token"]
    again = identify(client, token, user_id="u-1", user_hash=good_hash("u-1"))
    assert again.json() == {"verified": True, "token": token, "reconnect": False}


def test_identify_with_a_wrong_hash_is_refused_and_changes_nothing() -> None:
    client = Client()
    token = new_session(client)
    answer = identify(client, token, user_id="u-42", user_hash="0" * 64, name="Eve")
    assert answer.status_code == 403
    assert answer.json()["error"]["detail"]
    assert not Visitor.objects.filter(external_id="u-42").exists()
    assert not Visitor.objects.filter(name="Eve").exists()
    assert tokens.session_key(new_session(token=token)) == tokens.session_key(token)


@override_settings(SOHBET_WIDGET_IDENTITY_SECRET="")
def test_identify_with_a_hash_but_no_secret_set_is_refused() -> None:
    client = Client()
    token = new_session(client)
    answer = identify(client, token, user_id="u-1", user_hash="ab" * 32)
    assert answer.status_code == 403
    assert "not set up" in answer.json()["error"]["detail"]


def test_unverified_name_and_email_are_kept_as_such() -> None:
    client = Client()
    token = new_session(client)
    answer = identify(client, token, name="Bob", email="bob@example.com")
    assert answer.status_code == 200
    assert answer.json()["verified"] is False
    bob = Visitor.objects.get(name="Bob")
    assert bob.email == "bob@example.com" and not bob.identity_verified
    assert bob.external_id is None


def test_unverified_words_never_override_a_verified_identity() -> None:
    client = Client()
    token = identify(
        client,
        new_session(client),
        user_id="u-7",
        user_hash=good_hash("u-7"),
        email="real@example.com",
    ).json()["token"]
    answer = identify(client, token, email="fake@example.com", name="Mallory")
    assert answer.json()["verified"] is True
    user = Visitor.objects.get(external_id="u-7")
    assert user.email == "real@example.com" and user.name == ""


@pytest.mark.parametrize(
    "fields",
    [{"email": "not-an-email"}, {"name": "x" * 81}, {"user_id": 5, "email": ["a"]}],
)
def test_identify_with_bad_fields_is_refused(fields: dict[str, Any]) -> None:
    client = Client()
    token = new_session(client)
    before = Visitor.objects.count()
    assert identify(client, token, **fields).status_code == 400
    assert Visitor.objects.count() == before


def test_identify_without_a_token_is_refused() -> None:
    response = Client().post("/widget/identify/", "{}", content_type="application/json")
    assert response.status_code == 401


async def test_a_signed_in_users_earlier_conversation_follows_them() -> None:
    """Written on the laptop as an anonymous visitor, then signed in; the phone
    signs in and its socket says hello with that conversation."""
    laptop, phone = Client(), Client()
    token = await sync_to_async(new_session)(laptop)
    socket, _ = await open_token_socket(token)
    hello = await socket.receive_type("hello")
    await socket.send(type="message.send", client_id=str(uuid.uuid4()), body="hi")
    await socket.receive_type("ack")
    answer = await sync_to_async(identify)(
        laptop, token, user_id="u-9", user_hash=good_hash("u-9")
    )
    assert answer.json()["reconnect"] is True
    assert await socket.receive_close() == 4001  # reconnect with the new token
    phone_token = await sync_to_async(new_session)(phone)
    phone_token = (
        await sync_to_async(identify)(
            phone, phone_token, user_id="u-9", user_hash=good_hash("u-9")
        )
    ).json()["token"]
    on_phone, _ = await open_token_socket(phone_token)
    try:
        assert (await on_phone.receive_type("hello"))["thread"]["id"] == hello[
            "thread"
        ]["id"]
        thread = await Thread.objects.aget(pk=hello["thread"]["id"])
        assert thread.visitor_id == (await Visitor.objects.aget(external_id="u-9")).pk
    finally:
        await on_phone.close()
