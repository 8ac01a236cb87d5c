"""Push over HTTP: the service workers and the offline page, and the calls that
store subscriptions and an operator's choices."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from chat import services as chat_services
from chat.models import PushPreferences, PushSubscription
from tests.push.pushserver import PushService

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client() -> Client:
    user = get_user_model().objects.create_user(
        username="ayse", password="correct horse battery staple", is_staff=True
    )
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, url: str, body: Any, method: str = "post") -> Any:
    return getattr(client, method)(
        url, json.dumps(body), content_type="application/json"
    )


def test_each_worker_is_served_for_its_scope_and_named_for_the_release() -> None:
    client = Client()
    inbox = client.get("/admin/inbox/sw.js")
    page = client.get("/sw.js")

    assert inbox.status_code == page.status_code == 200
    assert inbox["Content-Type"].startswith("text/javascript")
    assert inbox["Service-Worker-Allowed"] == "/admin/inbox/"
    assert page["Service-Worker-Allowed"] == "/"
    assert inbox["Cache-Control"] == "no-cache"
    assert '"cache": "sohbet-inbox-' in inbox.content.decode()
    assert '"ignore": ["/admin/"]' in page.content.decode()  # the inbox's own
    assert "worker-src 'self'" in client.get("/")["Content-Security-Policy"]


def test_the_offline_page_speaks_the_visitors_language() -> None:
    english = Client().get("/offline/").content.decode()
    turkish = Client(headers={"accept-language": "tr"}).get("/offline/")

    assert "You are offline" in english and 'id="offline-retry"' in english
    assert "Çevrimdışısınız" in turkish.content.decode()


def test_an_operator_subscribes_a_device_and_turns_it_off(
    operator_client: Client, push_service: PushService
) -> None:
    subscription = push_service.new_subscription()
    url = "/admin/inbox/push/subscription/"

    created = send(operator_client, url, {"subscription": subscription})
    assert created.status_code == 201
    stored = PushSubscription.objects.get()
    assert (stored.endpoint, stored.operator.username) == (
        subscription["endpoint"],
        "ayse",
    )

    gone = send(operator_client, url, {"subscription": subscription}, "delete")
    assert gone.json() == {"subscribed": False}
    assert not PushSubscription.objects.exists()


def test_a_device_is_told_in_the_language_of_the_page_that_subscribed_it(
    push_service: PushService,
) -> None:
    user = get_user_model().objects.create_user(username="mehmet", is_staff=True)
    turkish = Client(headers={"accept-language": "tr"})
    turkish.force_login(user)

    send(
        turkish,
        "/admin/inbox/push/subscription/",
        {"subscription": push_service.new_subscription()},
    )

    assert PushSubscription.objects.get().language == "tr"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://attacker.example/push/abc",  # not a push service
        "http://fcm.googleapis.com/fcm/send/abc",  # not HTTPS
        "http://10.0.0.1/push/abc",  # an inside address
        "https://user:pw@fcm.googleapis.com/fcm/send/abc",
    ],
)
def test_a_subscription_to_anything_but_a_push_service_is_refused(
    operator_client: Client, push_service: PushService, endpoint: str
) -> None:
    subscription = {**push_service.new_subscription(), "endpoint": endpoint}

    response = send(
        operator_client,
        "/admin/inbox/push/subscription/",
        {"subscription": subscription},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "This push service is not allowed."
    assert not PushSubscription.objects.exists()


def test_bad_keys_are_refused(
    operator_client: Client, push_service: PushService
) -> None:
    subscription = push_service.new_subscription()
    subscription["keys"]["auth"] = "c2hvcnQ"

    response = send(
        operator_client,
        "/admin/inbox/push/subscription/",
        {"subscription": subscription},
    )

    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


def test_a_visitor_subscribes_once_their_conversation_exists(
    push_service: PushService,
) -> None:
    client = Client()
    client.get("/")
    body = {"subscription": push_service.new_subscription()}

    early = send(client, "/push/subscription/", body)
    assert (early.status_code, early.json()["error"]) == (409, "Send a message first.")

    session = client.session
    conversation = chat_services.open_conversation(session)
    if conversation.new is not None:  # its first message writes it
        chat_services.store_conversation(conversation.new)
    session.save()
    assert send(client, "/push/subscription/", body).status_code == 201
    assert PushSubscription.objects.get().visitor_id == conversation.visitor_id


def test_an_operators_choices_are_stored_and_bad_ones_change_nothing(
    operator_client: Client, push_service: PushService
) -> None:
    url = "/admin/inbox/push/preferences/"
    defaults = operator_client.get(url).json()
    assert defaults["new_conversations"] and defaults["quiet_from"] == ""

    saved = send(
        operator_client,
        url,
        {
            "new_conversations": False,
            "messages": True,
            "mentions": False,
            "quiet_from": "22:00",
            "quiet_until": "07:30",
            "time_zone": "Europe/Istanbul",
        },
    ).json()
    assert (saved["new_conversations"], saved["quiet_until"]) == (False, "07:30")

    bad = send(operator_client, url, {"quiet_from": "25:99", "quiet_until": "07:00"})
    assert bad.status_code == 400
    assert PushPreferences.objects.get().quiet_from.isoformat() == "22:00:00"


def test_without_keys_the_pages_offer_no_push(settings: Any) -> None:
    settings.SOHBET_PUSH_ENABLED = False
    client = Client()
    page = client.get("/").content.decode()

    assert 'id="push-button"' not in page
    assert send(client, "/push/subscription/", {}).status_code == 404


def test_the_admin_lists_devices_without_their_keys(
    admin_client: Client, push_service: PushService
) -> None:
    subscription = push_service.new_subscription()
    send(
        admin_client, "/admin/inbox/push/subscription/", {"subscription": subscription}
    )
    stored = PushSubscription.objects.get()

    listing = admin_client.get("/admin/chat/pushsubscription/").content.decode()
    detail = admin_client.get(
        f"/admin/chat/pushsubscription/{stored.pk}/change/"
    ).content.decode()

    assert "admin" in listing
    assert subscription["endpoint"] in detail
    assert subscription["keys"]["auth"] not in detail
