"""The email outbox: an operator's reply the visitor has not read goes to them by
email after SOHBET_EMAIL_UNREAD_DELAY, to a real SMTP server on 127.0.0.1; retries,
failures, claims."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from chat import services
from chat.email import worker
from chat.email.compose import build
from chat.exceptions import ChatError
from chat.models import Message, OutboxEntry, Thread, Visitor
from tests.chat.email.smtp import SMTPServer, free_port, html_part, text_part

pytestmark = pytest.mark.django_db


def conversation(email: str = "ada@example.com", locale: str = "en") -> Thread:
    visitor = Visitor.objects.create(email=email, email_source="visitor", locale=locale)
    thread = Thread.objects.create(visitor=visitor)
    services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body="Hello?")
    return thread


def reply(thread: Thread, body: str, name: str = "Ayşe") -> Message:
    return services.post_message(
        thread_id=thread.pk,
        client_id=uuid.uuid4(),
        body=body,
        author=Message.Author.OPERATOR,
        author_name=name,
    ).message


def later(seconds: float = 1) -> dt.datetime:
    return timezone.now() + dt.timedelta(
        seconds=settings.SOHBET_EMAIL_UNREAD_DELAY + seconds
    )


def email_rows(thread: Thread) -> list[tuple[str, str]]:
    return list(
        OutboxEntry.objects.filter(channel="email", thread=thread)
        .order_by("pk")
        .values_list("status", "last_error")
    )


def test_an_unread_reply_is_emailed_once_the_delay_has_passed(
    smtp_server: SMTPServer,
) -> None:
    thread = conversation()
    reply(thread, "We open at nine tomorrow.")

    assert worker.send_due() == 0  # not yet: the visitor may still read it
    assert worker.send_due(now=later()) == 1

    [message] = smtp_server.inbox.wait_for(1)
    assert smtp_server.inbox.recipients == [["ada@example.com"]]
    assert "We open at nine tomorrow." in text_part(message)
    assert "Ayşe" in text_part(message)
    assert "We open at nine tomorrow." in html_part(message)
    assert "/email/open/" in text_part(message)
    assert message["List-Unsubscribe"].strip().startswith("<http://testserver/email/")
    assert email_rows(thread) == [("done", "")]


def test_replies_of_one_delay_go_in_one_email(smtp_server: SMTPServer) -> None:
    thread = conversation()
    reply(thread, "First answer.")
    reply(thread, "And a second one.", name="Mehmet")

    assert worker.send_due(now=later()) == 1

    [message] = smtp_server.inbox.wait_for(1)
    text = text_part(message)
    assert text.index("First answer.") < text.index("And a second one.")
    assert "Mehmet" in text
    assert email_rows(thread) == [("done", ""), ("done", "")]


def test_a_reply_read_in_time_is_not_emailed(smtp_server: SMTPServer) -> None:
    thread = conversation()
    message = reply(thread, "Read this one.")
    services.mark_read(thread_id=thread.pk, by="visitor", up_to=message.pk)

    worker.send_due(now=later())

    assert smtp_server.inbox.messages == []
    assert email_rows(thread) == [("skipped", "read in time")]


def test_a_visitor_without_an_email_address_gets_none(smtp_server: SMTPServer) -> None:
    thread = conversation(email="")
    reply(thread, "Anyone there?")

    worker.send_due(now=later())

    assert smtp_server.inbox.messages == []
    assert email_rows(thread) == []  # nothing kept of what could go nowhere


def test_an_unsubscribed_visitor_gets_no_more_email(smtp_server: SMTPServer) -> None:
    thread = conversation()
    reply(thread, "Before.")
    services.unsubscribe_visitor(visitor_id=thread.visitor_id)
    reply(thread, "After.")

    worker.send_due(now=later())

    assert smtp_server.inbox.messages == []
    assert email_rows(thread) == [
        ("skipped", "unsubscribed"),
        ("skipped", "unsubscribed"),
    ]


def test_the_email_is_in_the_visitors_language(smtp_server: SMTPServer) -> None:
    thread = conversation(locale="tr")
    reply(thread, "Yarın dokuzda açığız.")

    worker.send_due(now=later())

    [message] = smtp_server.inbox.wait_for(1)
    assert "okumadığınız" in text_part(message)
    assert "Sohbete devam edin" in html_part(message)


def test_a_refusal_for_now_is_tried_again_later(smtp_server: SMTPServer) -> None:
    thread = conversation()
    reply(thread, "Refused first.")
    smtp_server.inbox.refuse = "451 4.3.0 Try again later"

    worker.send_due(now=later())

    entry = OutboxEntry.objects.get(channel="email", thread=thread)
    assert (entry.status, entry.attempts) == ("pending", 1)
    assert "451" in entry.last_error
    assert worker.send_due(now=later(2)) == 0  # backing off

    smtp_server.inbox.refuse = ""
    assert worker.send_due(now=entry.next_attempt_at) == 1
    [message] = smtp_server.inbox.wait_for(1)
    assert "Refused first." in text_part(message)
    assert email_rows(thread) == [("done", "")]


def test_a_server_that_is_down_is_tried_again(settings, smtp_server) -> None:  # type: ignore[no-untyped-def]
    thread = conversation()
    reply(thread, "Server away.")
    settings.EMAIL_PORT = free_port()  # nothing listens there

    worker.send_due(now=later())

    entry = OutboxEntry.objects.get(channel="email", thread=thread)
    assert (entry.status, entry.attempts) == ("pending", 1)
    assert "Connection" in entry.last_error or "refused" in entry.last_error


def test_an_address_refused_for_good_fails_and_shows_in_the_admin(
    smtp_server: SMTPServer, admin_client
) -> None:  # type: ignore[no-untyped-def]
    thread = conversation()
    reply(thread, "Bounced.")
    smtp_server.inbox.refuse = "550 5.1.1 No such user"

    worker.send_due(now=later())

    entry = OutboxEntry.objects.get(channel="email", thread=thread)
    assert entry.status == "failed"
    page = admin_client.get(
        "/admin/chat/outboxentry/?channel__exact=email&status__exact=failed"
    ).content.decode()
    assert "550" in page


def test_a_claimed_email_is_not_sent_by_a_second_worker(
    smtp_server: SMTPServer,
) -> None:
    thread = conversation()
    reply(thread, "Only once.")
    [job] = services.claim_email_jobs(now=later(), claim_seconds=worker.CLAIM_SECONDS)

    # Another worker's pass while the first is sending: nothing is due.
    assert worker.send_due(now=later(2)) == 0
    assert smtp_server.inbox.messages == []
    assert job.thread_id == thread.pk


def test_a_worker_that_dies_between_send_and_mark_sends_again_after_its_claim(
    smtp_server: SMTPServer,
) -> None:
    """What the design guarantees: none lost; a second copy only after a crash in
    that window (at least once)."""
    thread = conversation()
    reply(thread, "Crash window.")

    def send_then_die(email) -> None:  # type: ignore[no-untyped-def]
        email.send()
        raise SystemExit("killed before the mark")

    with pytest.raises(SystemExit):
        worker.send_due(now=later(), send=send_then_die)
    smtp_server.inbox.wait_for(1)
    assert worker.send_due(now=later(2)) == 0  # still claimed

    assert worker.send_due(now=later(worker.CLAIM_SECONDS + 2)) == 1
    assert len(smtp_server.inbox.wait_for(2)) == 2
    assert email_rows(thread) == [("done", "")]


def test_a_transcript_has_the_whole_conversation(smtp_server: SMTPServer) -> None:
    thread = conversation()
    reply(thread, "An answer.")
    services.request_transcript(visitor_id=thread.visitor_id, thread_id=thread.pk)

    assert worker.send_due() == 1

    [message] = smtp_server.inbox.wait_for(1)
    text = text_part(message)
    assert "Hello?" in text and "An answer." in text
    assert "Your conversation with" in message["Subject"]


def test_transcripts_to_one_address_are_limited(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR = 1
    thread = conversation()
    services.request_transcript(visitor_id=thread.visitor_id, thread_id=thread.pk)
    other = conversation()  # another visitor giving the same address

    with pytest.raises(ChatError) as refused:
        services.request_transcript(visitor_id=other.visitor_id, thread_id=other.pk)

    assert refused.value.code == "rate_limited"


def test_the_links_point_at_the_public_address(smtp_server: SMTPServer) -> None:
    thread = conversation()
    message = reply(thread, "Link check.")
    email = build("replies", visitor=thread.visitor, thread=thread, messages=[message])
    links = re.findall(r"http://testserver/email/\S+/", email.body)
    assert len(links) == 2  # continue, unsubscribe


def test_a_transcript_shows_operators_only_as_the_chat_did(
    smtp_server: SMTPServer, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    operator = django_user_model.objects.create_user(
        username="ayse.k",
        email="ayse.k@staff.example",
        first_name="Ayşe",
        is_staff=True,
    )
    thread = conversation()
    services.post_message(
        thread_id=thread.pk,
        client_id=uuid.uuid4(),
        body="Here to help.",
        author=Message.Author.OPERATOR,
        operator_id=operator.pk,
        author_name="Ayşe",
    )
    services.request_transcript(visitor_id=thread.visitor_id, thread_id=thread.pk)

    worker.send_due()

    [message] = smtp_server.inbox.wait_for(1)
    whole = message.as_string()
    assert "Here to help." in text_part(message)
    assert "ayse.k" not in whole and "staff.example" not in whole
