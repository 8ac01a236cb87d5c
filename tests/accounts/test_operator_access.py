"""manage.py operator_access: the site owner lets an operator back in."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts import selectors, services
from tests.accounts.conftest import link

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("operator_access", *args, stdout=out)
    return out.getvalue()


def test_recovery_codes_prints_ten_fresh_working_codes(linked_operator: Any) -> None:
    old = services.issue_recovery_codes(user=linked_operator)
    output = run("ayse", "--recovery-codes")
    codes = re.findall(r"\b[a-z]{4}-[a-z]{4}-[a-z]{4}\b", output)
    assert len(codes) == 10
    assert services.use_recovery_code(user=linked_operator, code=codes[0]) is True
    assert services.use_recovery_code(user=linked_operator, code=old[0]) is False


def test_unlink_removes_the_second_factor(settings: Any, linked_operator: Any) -> None:
    settings.TELEGRAM_ENABLED = True
    assert selectors.is_second_factor_required(user=linked_operator)
    assert "Unlinked" in run("ayse", "--unlink")
    assert not selectors.is_second_factor_required(user=linked_operator)
    assert "had no Telegram account" in run("ayse", "--unlink")


def test_unknown_user_is_a_command_error(operator: Any) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("nobody", "--unlink")


def test_recovery_codes_for_an_unlinked_operator_is_a_command_error(
    operator: Any,
) -> None:
    with pytest.raises(CommandError, match="no Telegram account linked"):
        run("ayse", "--recovery-codes")
    link(operator)
    assert run("ayse", "--recovery-codes")


def test_one_action_is_required(operator: Any) -> None:
    with pytest.raises(CommandError):
        run("ayse")


def test_end_sessions_signs_the_operator_out_everywhere(operator: Any) -> None:
    browser = Client()
    browser.force_login(operator)
    assert browser.get("/admin/").status_code == 200
    assert "Signed 'ayse' out everywhere" in run("ayse", "--end-sessions")
    assert browser.get("/admin/").status_code == 302


def test_the_admin_signs_selected_users_out_everywhere(make_user: Any) -> None:
    owner = make_user("owner", is_superuser=True)
    mehmet = make_user("mehmet")
    his_browser = Client()
    his_browser.force_login(mehmet)
    admin = Client()
    admin.force_login(owner)
    done = admin.post(
        "/admin/accounts/user/",
        {"action": "end_sessions", "_selected_action": [mehmet.pk]},
        follow=True,
    )
    assert "1 user was signed out everywhere" in done.content.decode()
    assert his_browser.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 200
