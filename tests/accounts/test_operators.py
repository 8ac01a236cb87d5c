"""The first operator from ADMIN_USERNAME/ADMIN_PASSWORD, and the operators' role."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from accounts.roles import OPERATOR_PERMISSIONS, OPERATORS_GROUP
from chat import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USERNAME", "deniz")
    monkeypatch.setenv("ADMIN_PASSWORD", "a long and good password")


def signed_in(client: Client) -> bool:
    return client.get("/admin/inbox/").status_code == 200


def test_a_restart_with_the_same_variables_keeps_the_operator_signed_in(
    admin_env: None, client: Client
) -> None:
    call_command("ensure_operator")
    assert client.login(username="deniz", password="a long and good password")
    assert signed_in(client)
    call_command("ensure_operator")  # make run, again
    assert signed_in(client)


def test_a_new_admin_password_takes_effect_and_signs_the_old_sessions_out(
    admin_env: None, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_command("ensure_operator")
    assert client.login(username="deniz", password="a long and good password")
    monkeypatch.setenv("ADMIN_PASSWORD", "another long password")
    call_command("ensure_operator")
    assert not signed_in(client)
    assert Client().login(username="deniz", password="another long password")


def test_the_operators_group_exists_with_its_permissions() -> None:
    group = Group.objects.get(name=OPERATORS_GROUP)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert granted == set(OPERATOR_PERMISSIONS)


def test_the_first_operator_is_in_the_operators_group(admin_env: None) -> None:
    call_command("ensure_operator")
    assert (
        Group.objects.get(name=OPERATORS_GROUP)
        .user_set.filter(username="deniz")
        .exists()
    )


def test_an_operator_added_as_the_docs_say_sees_what_they_may_use(
    client: Client, django_user_model: Any
) -> None:
    # docs/operations.md: staff status and the "Operators" group.
    user = django_user_model.objects.create_user("mehmet", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    client.force_login(user)
    index = client.get("/admin/").content.decode()
    assert "have permission to view or edit anything" not in index
    for page in ("/admin/chat/thread/", "/admin/chat/message/", "/admin/chat/visitor/"):
        assert f'href="{page}"' in index
        assert client.get(page).status_code == 200
    assert 'href="/admin/accounts/user/"' not in index  # not theirs to manage
    _visitor, thread = services.start_visitor(session_key="s1")
    threads = client.get("/admin/chat/thread/").content.decode()
    assert "close_selected" in threads and "reopen_selected" in threads
    response = client.post(
        "/admin/chat/thread/",
        {"action": "close_selected", "_selected_action": [thread.pk]},
    )
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == "closed"
