"""Linking, login codes and recovery codes at the service level."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from accounts import selectors, services
from accounts.exceptions import (
    LinkTokenExpired,
    LinkTokenInvalid,
    LinkTokenUsed,
    LoginCodeCooldown,
    TelegramAccountTaken,
    TelegramUnavailable,
)
from accounts.models import LinkToken, LoginCode, RecoveryCode, TelegramLink
from accounts.telegram import get_bot_username
from tests.accounts.conftest import (
    OTHER_TELEGRAM_USER_ID,
    TELEGRAM_USER_ID,
    codes_sent,
    last_code,
    link,
)
from tests.telegram.fakebot import BOT_USERNAME, FakeBotApi

pytestmark = pytest.mark.django_db

ATTEMPT = "attempt-in-browser-a"


# --- Link tokens ----------------------------------------------------------------------


def test_link_token_is_stored_only_as_its_hash(operator: Any) -> None:
    token = services.issue_link_token(user=operator)
    row = LinkToken.objects.get(user=operator)
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_link_token_links_the_telegram_user_once(operator: Any) -> None:
    token = services.issue_link_token(user=operator)
    user = services.link_telegram(
        token=token, telegram_user_id=TELEGRAM_USER_ID, telegram_username="ayse_tg"
    )
    assert user == operator
    assert operator.telegram_link.telegram_user_id == TELEGRAM_USER_ID
    with pytest.raises(LinkTokenUsed) as refused:
        services.link_telegram(
            token=token, telegram_user_id=TELEGRAM_USER_ID, telegram_username="x"
        )
    assert "already been used" in str(refused.value)


def test_expired_link_token_is_refused(operator: Any) -> None:
    token = services.issue_link_token(user=operator)
    LinkToken.objects.update(
        created_at=timezone.now() - timedelta(hours=1),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    with pytest.raises(LinkTokenExpired) as refused:
        services.link_telegram(
            token=token, telegram_user_id=TELEGRAM_USER_ID, telegram_username=""
        )
    assert "expired" in str(refused.value)
    assert not TelegramLink.objects.exists()


def test_unknown_link_token_is_refused_with_a_translated_message(
    operator: Any,
) -> None:
    from django.utils import translation

    with pytest.raises(LinkTokenInvalid) as refused:
        services.link_telegram(
            token="nope", telegram_user_id=TELEGRAM_USER_ID, telegram_username=""
        )
    with translation.override("en"):
        assert str(refused.value).startswith("This link is not valid.")


def test_a_new_link_token_invalidates_the_older_one(operator: Any) -> None:
    old = services.issue_link_token(user=operator)
    services.issue_link_token(user=operator)
    with pytest.raises(LinkTokenInvalid):
        services.link_telegram(
            token=old, telegram_user_id=TELEGRAM_USER_ID, telegram_username=""
        )


def test_telegram_user_linked_to_another_account_is_refused(
    operator: Any, make_user: Any
) -> None:
    link(operator)
    other = make_user("mehmet")
    token = services.issue_link_token(user=other)
    with pytest.raises(TelegramAccountTaken):
        services.link_telegram(
            token=token, telegram_user_id=TELEGRAM_USER_ID, telegram_username=""
        )
    assert not TelegramLink.objects.filter(user=other).exists()
    # The refused token was not spent.
    assert LinkToken.objects.get(user=other).used_at is None


def test_relinking_the_same_user_replaces_the_link(operator: Any) -> None:
    link(operator)
    services.issue_recovery_codes(user=operator)
    link(operator, telegram_user_id=OTHER_TELEGRAM_USER_ID)
    current = TelegramLink.objects.get(user=operator)
    assert current.telegram_user_id == OTHER_TELEGRAM_USER_ID
    assert current.recovery_codes_shown is False
    assert TelegramLink.objects.count() == 1


def test_operator_by_telegram_id_is_an_active_staff_user(operator: Any) -> None:
    link(operator)
    found = selectors.get_operator_by_telegram_id(telegram_user_id=TELEGRAM_USER_ID)
    assert found == operator
    assert selectors.get_operator_by_telegram_id(telegram_user_id=1) is None
    operator.is_staff = False
    operator.save()
    assert (
        selectors.get_operator_by_telegram_id(telegram_user_id=TELEGRAM_USER_ID) is None
    )


def test_unlinking_removes_the_link_and_its_codes(operator: Any) -> None:
    link(operator)
    services.issue_recovery_codes(user=operator)
    assert services.unlink_telegram(user=operator) is True
    assert not TelegramLink.objects.exists()
    assert not RecoveryCode.objects.exists()
    assert services.unlink_telegram(user=operator) is False


# --- Second factor: required, satisfied -----------------------------------------------


def test_second_factor_needs_telegram_configured_and_a_link(
    settings: Any, operator: Any
) -> None:
    settings.TELEGRAM_ENABLED = True
    assert selectors.is_second_factor_required(user=operator) is False
    link(operator)
    assert selectors.is_second_factor_required(user=operator) is True
    settings.TELEGRAM_ENABLED = False
    assert selectors.is_second_factor_required(user=operator) is False


def test_a_session_verified_for_one_user_does_not_satisfy_another(
    settings: Any, operator: Any, make_user: Any
) -> None:
    settings.TELEGRAM_ENABLED = True
    other = make_user("mehmet")
    link(operator)
    link(other, telegram_user_id=OTHER_TELEGRAM_USER_ID)
    session = SessionStore()
    session[selectors.SECOND_FACTOR_SESSION_KEY] = operator.pk
    assert selectors.is_second_factor_satisfied(user=operator, session=session)
    assert not selectors.is_second_factor_satisfied(user=other, session=session)
    assert not selectors.is_second_factor_satisfied(user=other, session=SessionStore())


# --- Login codes ----------------------------------------------------------------------


def test_login_code_is_sent_to_the_private_chat_and_stored_hashed(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    code = last_code(telegram)
    row = LoginCode.objects.get(user=linked_operator)
    assert code not in row.code_hash
    assert row.sent_at is not None
    assert (row.expires_at - row.created_at) == timedelta(seconds=300)
    assert telegram.calls("sendMessage")[-1].params["chat_id"] == TELEGRAM_USER_ID
    assert (
        services.verify_login_code(user=linked_operator, attempt=ATTEMPT, code=code)
        is True
    )


def test_a_used_code_is_refused(telegram: FakeBotApi, linked_operator: Any) -> None:
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    code = last_code(telegram)
    assert (
        services.verify_login_code(user=linked_operator, attempt=ATTEMPT, code=code)
        is True
    )
    assert (
        services.verify_login_code(user=linked_operator, attempt=ATTEMPT, code=code)
        is False
    )


def test_an_expired_code_is_refused(telegram: FakeBotApi, linked_operator: Any) -> None:
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert (
        services.verify_login_code(
            user=linked_operator, attempt=ATTEMPT, code=last_code(telegram)
        )
        is False
    )


def test_five_wrong_codes_kill_the_code(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    code = last_code(telegram)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert (
            services.verify_login_code(
                user=linked_operator, attempt=ATTEMPT, code=wrong
            )
            is False
        )
    assert LoginCode.objects.get().attempts == 5
    assert (
        services.verify_login_code(user=linked_operator, attempt=ATTEMPT, code=code)
        is False
    )
    assert not selectors.has_usable_login_code(user=linked_operator, attempt=ATTEMPT)


def test_a_new_code_waits_for_the_cooldown_then_replaces_the_old_one(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    first = last_code(telegram)
    with pytest.raises(LoginCodeCooldown) as refused:
        services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    assert 0 < refused.value.seconds_left <= 60
    assert len(codes_sent(telegram)) == 1
    LoginCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    second = last_code(telegram)
    assert len(codes_sent(telegram)) == 2
    if first != second:
        assert (
            services.verify_login_code(
                user=linked_operator, attempt=ATTEMPT, code=first
            )
            is False
        )
    assert (
        services.verify_login_code(user=linked_operator, attempt=ATTEMPT, code=second)
        is True
    )


def test_telegram_down_leaves_no_usable_code(
    telegram: FakeBotApi, linked_operator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next("sendMessage", status=500)
    with pytest.raises(TelegramUnavailable) as failed:
        services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    assert "could not reach Telegram" in str(failed.value)
    assert "500" in failed.value.detail
    assert telegram.token not in failed.value.detail
    assert not LoginCode.objects.exists()
    # Nothing was sent, so no cool-down: the next try goes through.
    services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    assert len(codes_sent(telegram)) == 1


def test_unreachable_bot_api_is_telegram_unavailable(
    telegram: FakeBotApi, linked_operator: Any
) -> None:
    telegram.stop()
    with pytest.raises(TelegramUnavailable) as failed:
        services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    assert "ConnectError" in failed.value.detail
    assert not LoginCode.objects.exists()


def test_neither_the_token_nor_the_code_reaches_the_logs(
    telegram: FakeBotApi, linked_operator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        services.issue_login_code(user=linked_operator, attempt=ATTEMPT)
    # Everything logged in this process except by the fake server itself.
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("tests.")
    )
    assert ours
    assert telegram.token not in ours
    assert last_code(telegram) not in ours


def test_bot_username_is_fetched_once_and_cached(telegram: FakeBotApi) -> None:
    assert get_bot_username() == BOT_USERNAME
    assert get_bot_username() == BOT_USERNAME
    assert len(telegram.calls("getMe")) == 1


# --- Recovery codes -------------------------------------------------------------------


def test_recovery_codes_are_ten_hashed_and_work_once(linked_operator: Any) -> None:
    issued = services.issue_recovery_codes(user=linked_operator)
    assert len(issued) == 10 and len(set(issued)) == 10
    assert all(len(code) == 14 and code.count("-") == 2 for code in issued)
    stored = list(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert not any(code in digest for code in issued for digest in stored)
    assert services.use_recovery_code(user=linked_operator, code=issued[3]) is True
    assert services.use_recovery_code(user=linked_operator, code=issued[3]) is False
    # Typed back in capitals without dashes, another one still works.
    typed = issued[4].replace("-", "").upper()
    assert services.use_recovery_code(user=linked_operator, code=typed) is True
    assert selectors.get_unused_recovery_code_count(user=linked_operator) == 8


def test_new_recovery_codes_replace_the_old_ones(linked_operator: Any) -> None:
    old = services.issue_recovery_codes(user=linked_operator)
    services.issue_recovery_codes(user=linked_operator)
    assert services.use_recovery_code(user=linked_operator, code=old[0]) is False


def test_first_recovery_codes_are_revealed_once(linked_operator: Any) -> None:
    first = services.reveal_recovery_codes(user=linked_operator)
    assert first is not None and len(first) == 10
    assert services.reveal_recovery_codes(user=linked_operator) is None
