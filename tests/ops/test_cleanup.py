"""``manage.py cleanup`` and the right to erasure in the admin."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import LinkToken, LoginCode, TelegramLink, User
from chat import services
from chat.models import Message, OutboxEntry, Thread, Visitor
from chat.uploads import CleanFile

pytestmark = pytest.mark.django_db

_hashes = itertools.count()


def _days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _visitor_with_messages(
    *, bodies: tuple[str, ...] = (), last_seen_days: float = 0
) -> tuple[Visitor, Thread]:
    visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
    for body in bodies:
        services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body=body)
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=_days_ago(last_seen_days))
    return visitor, thread


def _closed_thread(*, last_message_days: float) -> Thread:
    _visitor, thread = _visitor_with_messages(bodies=("hello", "are you there?"))
    services.close_thread(thread_id=thread.pk)
    Thread.objects.filter(pk=thread.pk).update(
        last_message_at=_days_ago(last_message_days)
    )
    return thread


def _login_code(user: User, *, expired_days: float, used: bool = False) -> LoginCode:
    expires_at = _days_ago(expired_days)
    return LoginCode.objects.create(
        user=user,
        code_hash=f"hash-{next(_hashes)}",
        created_at=expires_at - dt.timedelta(minutes=5),
        expires_at=expires_at,
        used_at=expires_at - dt.timedelta(minutes=4) if used else None,
    )


def _link_token(
    user: User, *, expired_days: float, used_at: dt.datetime | None = None
) -> LinkToken:
    expires_at = _days_ago(expired_days)
    return LinkToken.objects.create(
        user=user,
        token_hash=f"hash-{next(_hashes)}",
        created_at=expires_at - dt.timedelta(minutes=10),
        expires_at=expires_at,
        used_at=used_at,
    )


@dataclass
class World:
    """Rows that cleanup must remove (``gone_*``) and rows it must keep (``kept_*``)."""

    gone_codes: list[LoginCode]
    kept_codes: list[LoginCode]
    gone_tokens: list[LinkToken]
    kept_tokens: list[LinkToken]
    gone_visitors: list[Visitor]
    kept_visitors: list[Visitor]
    old_closed: Thread
    recent_closed: Thread
    old_open: Thread
    expired_session: str
    live_session: str


@pytest.fixture
def world(django_user_model: Any) -> World:
    operator = django_user_model.objects.create_user("ayse", is_staff=True)
    linked_at = _days_ago(3)
    TelegramLink.objects.create(
        user=operator, telegram_user_id=424242, linked_at=linked_at
    )

    stale_silent, _thread = _visitor_with_messages(last_seen_days=40)
    stale_writer, _thread = _visitor_with_messages(bodies=("hi",), last_seen_days=40)
    recent_silent, _thread = _visitor_with_messages(last_seen_days=2)

    old_open = _visitor_with_messages(bodies=("still open",))[1]
    Thread.objects.filter(pk=old_open.pk).update(last_message_at=_days_ago(100))

    expired = SessionStore()
    expired["x"] = 1
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(expire_date=_days_ago(1))
    live = SessionStore()
    live["x"] = 1
    live.create()

    return World(
        gone_codes=[
            _login_code(operator, expired_days=2),
            _login_code(operator, expired_days=2, used=True),
        ],
        kept_codes=[
            _login_code(operator, expired_days=0.5),  # expired hours ago: kept a day
            _login_code(operator, expired_days=-0.001),  # still valid
        ],
        gone_tokens=[
            _link_token(operator, expired_days=2),
            _link_token(operator, expired_days=4, used_at=_days_ago(4)),  # superseded
        ],
        kept_tokens=[
            # The token that made the current link: that session's access hangs on it.
            _link_token(operator, expired_days=3, used_at=linked_at),
            _link_token(operator, expired_days=-0.001),
        ],
        gone_visitors=[stale_silent],
        kept_visitors=[stale_writer, recent_silent],
        old_closed=_closed_thread(last_message_days=100),
        recent_closed=_closed_thread(last_message_days=10),
        old_open=old_open,
        expired_session=expired.session_key or "",
        live_session=live.session_key or "",
    )


def _exists(rows: list[Any]) -> list[bool]:
    return [type(row).objects.filter(pk=row.pk).exists() for row in rows]


def _cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def test_cleanup_removes_expired_codes_and_tokens_but_not_the_current_link(
    world: World,
) -> None:
    output = _cleanup()
    assert _exists(world.gone_codes) == [False, False]
    assert _exists(world.kept_codes) == [True, True]
    assert _exists(world.gone_tokens) == [False, False]
    assert _exists(world.kept_tokens) == [True, True]
    assert "Expired or used login codes: 2" in output
    assert "Expired or used Telegram link tokens: 2" in output


def test_cleanup_removes_visitors_who_never_wrote_with_their_empty_thread(
    world: World,
) -> None:
    gone_thread_ids = list(
        Thread.objects.filter(visitor__in=world.gone_visitors).values_list(
            "pk", flat=True
        )
    )
    output = _cleanup()
    assert _exists(world.gone_visitors) == [False]
    assert _exists(world.kept_visitors) == [True, True]
    assert not Thread.objects.filter(pk__in=gone_thread_ids).exists()
    assert "last seen over 30 days ago: 1" in output


def test_cleanup_removes_expired_sessions(world: World) -> None:
    _cleanup()
    assert not Session.objects.filter(pk=world.expired_session).exists()
    assert Session.objects.filter(pk=world.live_session).exists()


def test_without_retention_days_no_conversation_is_removed(
    world: World, settings
) -> None:
    settings.RETENTION_DAYS = 0
    messages_before = Message.objects.count()
    output = _cleanup()
    threads = [world.old_closed, world.recent_closed, world.old_open]
    assert _exists(threads) == [True, True, True]
    assert Message.objects.count() == messages_before
    assert "RETENTION_DAYS is not set" in output


def test_retention_removes_old_closed_threads_with_messages_and_outbox(
    world: World, settings
) -> None:
    settings.RETENTION_DAYS = 90
    old = world.old_closed
    OutboxEntry.objects.create(channel="telegram", kind="message", thread=old)
    visitor_id = old.visitor_id
    output = _cleanup()
    assert _exists([old, world.recent_closed, world.old_open]) == [False, True, True]
    assert not Message.objects.filter(thread_id=old.pk).exists()
    assert not OutboxEntry.objects.filter(thread_id=old.pk).exists()
    assert Message.objects.filter(thread_id=world.recent_closed.pk).count() == 2
    # Its visitor was seen today, so they stay (now without a conversation).
    assert Visitor.objects.filter(pk=visitor_id).exists()
    assert "Closed conversations older than 90 days: 1" in output


def test_dry_run_counts_and_removes_nothing(world: World, settings) -> None:
    settings.RETENTION_DAYS = 90
    counts = {
        model: model.objects.count()
        for model in (LoginCode, LinkToken, Visitor, Thread, Message, Session)
    }
    output = _cleanup("--dry-run")
    assert {model: model.objects.count() for model in counts} == counts
    assert "Expired or used login codes: 2" in output
    assert "Expired or used Telegram link tokens: 2" in output
    assert "Expired sessions: 1" in output
    assert "Closed conversations older than 90 days: 1" in output
    assert "last seen over 30 days ago: 1" in output
    assert "Dry run: nothing was removed." in output


def _media_file(name: str, *, days_old: float) -> Path:
    path = Path(settings.MEDIA_ROOT, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 partial")
    stamp = _days_ago(days_old).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_cleanup_removes_old_files_that_no_upload_refers_to() -> None:
    _visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
    attachment = services.store_attachment(
        thread_id=thread.pk,
        uploaded_by="visitor",
        operator_id=None,
        cleaned=CleanFile(b"%PDF-1.4 kept", "file", "application/pdf", "pdf", "a.pdf"),
    )
    kept = Path(settings.MEDIA_ROOT, attachment.file.name)
    os.utime(kept, (_days_ago(3).timestamp(),) * 2)
    orphan = _media_file("attachments/2026/01/partial.pdf", days_old=2)
    recent = _media_file("attachments/2026/12/on-its-way.pdf", days_old=0.01)

    assert "Stored files no upload refers to, older than a day: 1" in _cleanup(
        "--dry-run"
    )
    assert orphan.exists()
    assert "Stored files no upload refers to, older than a day: 1" in _cleanup()
    assert not orphan.exists()
    assert kept.exists() and recent.exists()


# --- Erasure --------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client: Client, django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    return client


def test_deleting_a_visitor_in_the_admin_erases_all_their_messages(
    superuser_client: Client,
) -> None:
    visitor, thread = _visitor_with_messages(bodies=("my phone is 555", "bye"))
    services.close_thread(thread_id=thread.pk)
    second = services.reopen_thread(thread_id=thread.pk)
    OutboxEntry.objects.create(channel="telegram", kind="message", thread=second)
    other, other_thread = _visitor_with_messages(bodies=("someone else",))

    page = superuser_client.get(f"/admin/chat/visitor/{visitor.pk}/delete/")
    assert page.status_code == 200
    response = superuser_client.post(
        f"/admin/chat/visitor/{visitor.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Visitor.objects.filter(pk=visitor.pk).exists()
    assert not Thread.objects.filter(visitor_id=visitor.pk).exists()
    assert not Message.objects.filter(thread_id=thread.pk).exists()
    assert not Message.objects.filter(body__contains="555").exists()
    assert not OutboxEntry.objects.filter(thread_id=thread.pk).exists()
    assert Message.objects.filter(thread=other_thread).count() == 1
    assert Visitor.objects.filter(pk=other.pk).exists()


def test_the_admins_bulk_delete_erases_each_visitor(superuser_client: Client) -> None:
    first, _thread = _visitor_with_messages(bodies=("one",))
    second, _thread = _visitor_with_messages(bodies=("two",))
    response = superuser_client.post(
        "/admin/chat/visitor/",
        {
            "action": "delete_selected",
            "_selected_action": [first.pk, second.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Visitor.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert Message.objects.count() == 0


def test_only_a_superuser_may_erase_a_visitor(
    client: Client, django_user_model: Any
) -> None:
    staff = django_user_model.objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    visitor, _thread = _visitor_with_messages(bodies=("hi",))
    response = client.post(f"/admin/chat/visitor/{visitor.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Visitor.objects.filter(pk=visitor.pk).exists()


def test_erase_visitor_returns_how_many_messages_went() -> None:
    visitor, _thread = _visitor_with_messages(bodies=("a", "b", "c"))
    assert services.erase_visitor(visitor_id=visitor.pk) == 3
    assert services.erase_visitor(visitor_id=visitor.pk) == 0


def test_closing_from_the_filtered_admin_list_reports_the_right_count(
    admin_client, django_user_model
):
    from chat.models import Thread, Visitor

    threads = [
        Thread.objects.create(visitor=Visitor.objects.create()) for _ in range(2)
    ]
    response = admin_client.post(
        "/admin/chat/thread/?status__exact=open",
        {"action": "close_selected", "_selected_action": [t.pk for t in threads]},
        follow=True,
    )
    assert "2 conversations closed." in response.content.decode()
    assert set(Thread.objects.values_list("status", flat=True)) == {"closed"}
