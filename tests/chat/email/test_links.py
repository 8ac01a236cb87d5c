"""The links of an email: reopen the conversation on this browser; unsubscribe in
one click, without signing in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from chat import services
from chat.email import links
from chat.models import OutboxEntry, Thread, Visitor

pytestmark = pytest.mark.django_db


def visitor_with_thread() -> tuple[Visitor, Thread]:
    visitor = Visitor.objects.create(email="ada@example.com", email_source="visitor")
    return visitor, Thread.objects.create(visitor=visitor)


def test_the_reopen_link_points_this_browser_at_the_visitor() -> None:
    visitor, _thread = visitor_with_thread()
    client = Client()

    response = client.get(f"/email/open/{links.resume_token(visitor.pk)}/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[services.VISITOR_SESSION_KEY] == visitor.pk


def test_an_expired_reopen_link_opens_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    visitor, _thread = visitor_with_thread()
    token = links.resume_token(visitor.pk)
    settings.SOHBET_EMAIL_LINK_MAX_AGE = -1
    client = Client()

    response = client.get(f"/email/open/{token}/")

    assert response.status_code == 410
    assert "This link no longer works" in response.content.decode()
    assert services.VISITOR_SESSION_KEY not in client.session


def test_a_forged_reopen_link_opens_nothing() -> None:
    visitor, _thread = visitor_with_thread()
    forged = signing.TimestampSigner(salt="another").sign(str(visitor.pk))

    response = Client().get(f"/email/open/{forged}/")

    assert response.status_code == 410


def test_the_unsubscribe_link_works_in_one_click() -> None:
    visitor, thread = visitor_with_thread()
    pending = OutboxEntry.objects.create(channel="email", kind="message", thread=thread)

    token = links.unsubscribe_token(visitor.pk)

    response = Client().get(f"/email/unsubscribe/{token}/")

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    visitor.refresh_from_db()
    assert visitor.email_unsubscribed_at is not None
    pending.refresh_from_db()
    assert pending.status == "skipped"


def test_a_mail_clients_one_click_post_unsubscribes_without_csrf() -> None:
    visitor, _thread = visitor_with_thread()
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        f"/email/unsubscribe/{links.unsubscribe_token(visitor.pk)}/",
        {"List-Unsubscribe": "One-Click"},
    )

    assert response.status_code == 200
    visitor.refresh_from_db()
    assert visitor.email_unsubscribed_at is not None


def test_undo_on_the_unsubscribe_page_subscribes_again() -> None:
    visitor, _thread = visitor_with_thread()
    url = f"/email/unsubscribe/{links.unsubscribe_token(visitor.pk)}/"
    client = Client()
    client.get(url)

    response = client.post(url, {"resubscribe": "1"})

    assert "You will get our emails again" in response.content.decode()
    visitor.refresh_from_db()
    assert visitor.email_unsubscribed_at is None


def test_email_settings_from_one_url() -> None:
    from chatsite.email import email_settings

    smtp = email_settings(
        "smtp://me%40example.com:p%2Fss@mail.example.com:587?tls=1",
        base_dir=settings.BASE_DIR,
    )
    assert (smtp["EMAIL_HOST"], smtp["EMAIL_PORT"], smtp["EMAIL_USE_TLS"]) == (
        "mail.example.com",
        587,
        True,
    )
    assert (smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"]) == (
        "me@example.com",
        "p/ss",
    )
    smtps = email_settings("smtps://mail.example.com", base_dir=settings.BASE_DIR)
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_SSL"]) == (465, True)
    files = email_settings("file://.tmp/email", base_dir=settings.BASE_DIR)
    assert files["EMAIL_FILE_PATH"] == str(settings.BASE_DIR / ".tmp" / "email")


def test_an_email_url_of_another_kind_is_refused_at_boot() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from chatsite.email import email_settings

    with pytest.raises(ImproperlyConfigured, match="smtp://"):
        email_settings("http://mail.example.com", base_dir=settings.BASE_DIR)


READ_EMAIL = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps([settings.SOHBET_EMAIL_ENABLED, settings.SOHBET_EMAIL_ASK,
                  settings.SOHBET_EMAIL_UNREAD_DELAY, settings.SOHBET_EMAIL_WORKER]))
"""


def test_production_without_an_email_url_sends_no_email() -> None:
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", READ_EMAIL],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    read = json.loads(done.stdout.strip().splitlines()[-1])
    assert read == [False, "never", 0, False]
