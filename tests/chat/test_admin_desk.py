"""The desk's admin pages: labels (kept in step with every inbox) and the automatic
assignment's switch."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import desk
from chat.models import (
    AUTO_ASSIGNMENT_ID,
    AutoAssignment,
    Label,
    Thread,
    ThreadLabel,
    Visitor,
)
from realtime import delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("owner", password="x" * 12)
    client = Client()
    client.force_login(user)
    return client


def test_the_switch_is_off_until_the_owner_turns_it_on(owner: Client) -> None:
    url = f"/admin/chat/autoassignment/{AUTO_ASSIGNMENT_ID}/change/"
    assert owner.get("/admin/chat/autoassignment/")["Location"].endswith(url)
    assert not desk.is_auto_assignment_enabled()
    assert owner.post(url, {"enabled": "on", "_save": "Save"}).status_code == 302
    assert AutoAssignment.objects.get().enabled
    assert desk.is_auto_assignment_enabled()  # the cached "off" was forgotten


def test_a_label_made_in_the_admin_reaches_the_inboxes(
    owner: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        delivery.collecting() as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = owner.post(
            "/admin/chat/label/add/", {"name": " Sales  lead ", "colour": "#0f766e"}
        )
    assert response.status_code == 302
    assert Label.objects.get().name == "Sales lead"
    assert [e["labels"][0]["name"] for _g, e in sent if e["type"] == "chat.labels"] == [
        "Sales lead"
    ]
    assert "Sales lead" in owner.get("/admin/chat/label/").content.decode()


def test_deleting_a_label_takes_it_off_its_conversations(
    owner: Client, django_capture_on_commit_callbacks: Any
) -> None:
    label = Label.objects.create(name="Spam", colour="#b91c1c")
    thread = Thread.objects.create(visitor=Visitor.objects.create())
    ThreadLabel.objects.create(thread=thread, label=label)
    with (
        delivery.collecting() as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        owner.post(f"/admin/chat/label/{label.pk}/delete/", {"post": "yes"})
    assert not ThreadLabel.objects.exists()
    told = [e for _g, e in sent if e["type"] == "chat.thread_labels"]
    assert told == [{"type": "chat.thread_labels", "thread": thread.pk, "labels": []}]


def test_the_conversations_list_filters_by_label(owner: Client) -> None:
    label = Label.objects.create(name="Refund", colour="#c2410c")
    Label.objects.create(name="Bug", colour="#1d4ed8")  # a filter needs two choices
    labelled, other = (
        Thread.objects.create(visitor=Visitor.objects.create()) for _ in "ab"
    )
    ThreadLabel.objects.create(thread=labelled, label=label)
    page = owner.get(f"/admin/chat/thread/?thread_labels__label__id__exact={label.pk}")
    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert shown == [labelled] and other not in shown
