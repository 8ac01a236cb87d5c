"""A private note never reaches the visitor's transcript email."""

from __future__ import annotations

import pytest

from chat import services
from chat.email import worker
from tests.chat.email.smtp import SMTPServer
from tests.chat.email.test_worker import conversation, reply, text_part

pytestmark = pytest.mark.django_db

SECRET = "Card declined twice, suspect fraud"


def test_the_transcript_email_has_no_note(
    smtp_server: SMTPServer, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    ayse = django_user_model.objects.create_user("ayse", is_staff=True)
    thread = conversation()
    reply(thread, "An answer.")
    services.add_note(thread_id=thread.pk, author=ayse, body=SECRET)
    services.request_transcript(visitor_id=thread.visitor_id, thread_id=thread.pk)

    worker.send_due()

    [message] = smtp_server.inbox.wait_for(1)
    assert "An answer." in text_part(message)
    assert SECRET not in message.as_string()
