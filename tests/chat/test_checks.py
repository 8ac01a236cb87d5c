"""The start-up check that the message path's fast storage can carry every field it
writes (chat.E003): a field added to a model it writes fails ``manage.py check`` and
the web process's start, not every post in production."""

from __future__ import annotations

import pytest

from chat import checks, storage
from chat.models import Attachment


def test_the_models_as_they_are_pass() -> None:
    assert checks.check_fast_storage() == []


def test_a_field_the_fast_storage_cannot_carry_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A file field stands for any field whose values need Django's preparation (a
    # JSONField, a DurationField...).
    monkeypatch.setattr(storage, "FAST_FIELDS", {Attachment: ("kind", "file")})
    errors = checks.check_fast_storage()
    assert [error.id for error in errors] == ["chat.E003"]
    assert "Attachment.file" in errors[0].msg


def test_email_links_are_checked_only_when_email_is_sent(settings) -> None:
    from chat.checks import check_email_links

    settings.SOHBET_PUBLIC_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SOHBET_EMAIL_ENABLED = False  # no SOHBET_EMAIL_URL: nothing is sent
    assert check_email_links() == []
    settings.SOHBET_EMAIL_ENABLED = True
    assert [w.id for w in check_email_links()] == ["chat.W005"]
    settings.SOHBET_PUBLIC_URL = "https://chat.example.com"
    assert check_email_links() == []
