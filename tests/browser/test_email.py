"""Email in the visitor's page: the form that asks for an address (valid, invalid,
required before the first message), and the link of a received email opening the
conversation in another browser. The server sends with its own worker thread to a
real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

from chat import services
from chat.email.links import unsubscribe_token
from chat.models import Message, Visitor
from tests.browser.axe import violations
from tests.browser.conftest import LiveServer, start_daphne, stop_daphne
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.chat.email.smtp import SMTPServer, free_port, text_part

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_server(test_db_name: str, smtp: SMTPServer) -> Iterator[LiveServer]:
    """A server that asks for an email before the first message and emails a
    reply unread for one second."""
    port = free_port()
    server = start_daphne(
        test_db_name,
        port,
        env={
            "SOHBET_EMAIL_URL": smtp.url,
            "SOHBET_EMAIL_WORKER": "1",
            "SOHBET_EMAIL_REQUIRED": "1",
            "SOHBET_EMAIL_UNREAD_DELAY": "1",
            "SOHBET_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
    )
    yield server
    stop_daphne(server)


@pytest.fixture
def mail_page(browser: Any, mail_server: LiveServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(base_url=mail_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        page.wait_for_selector('#connection-state[data-state="open"]', state="attached")
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_an_invalid_email_is_refused_in_the_form(mail_page: Any) -> None:
    page = mail_page()
    form = page.locator("#email-ask")
    expect(form).to_be_visible()
    assert violations(page) == []

    page.fill("#email-input", "ada@")
    page.click("#email-save")
    expect(page.locator("#email-error")).to_have_text(
        "Please enter a valid email address."
    )
    page.fill("#email-input", "ada@example..com")  # the server's check
    page.click("#email-save")
    expect(page.locator("#email-error")).to_have_text(
        "Please enter a valid email address."
    )
    expect(page.locator("#email-input")).to_have_attribute("aria-invalid", "true")
    assert Visitor.objects.exclude(email="").count() == 0


def test_the_email_is_required_before_the_first_message(mail_page: Any) -> None:
    page = mail_page()
    expect(page.locator("#composer-input")).to_be_disabled()
    expect(page.locator("#email-dismiss")).to_be_hidden()

    page.fill("#email-input", "ada@example.com")
    page.click("#email-save")

    expect(page.locator("#email-ask")).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_enabled()
    send_as_visitor(page, "Are you open on Sunday?")
    expect(page.locator(SENT)).to_have_count(1)
    visitor = Visitor.objects.get(email="ada@example.com")
    assert visitor.email_source == "visitor"


def test_the_link_of_an_email_reopens_the_conversation_in_another_browser(
    mail_page: Any, smtp: SMTPServer, settings: Any
) -> None:
    page = mail_page()
    page.fill("#email-input", "ada@example.com")
    page.click("#email-save")
    send_as_visitor(page, "Are you open on Sunday?")
    expect(page.locator(SENT)).to_have_count(1)
    page.context.close()  # the visitor left
    visitor = Visitor.objects.get(email="ada@example.com")
    thread = visitor.threads.get()
    settings.SOHBET_EMAIL_UNREAD_DELAY = 1

    def reply() -> None:  # an operator's reply (off Playwright's event loop)
        services.post_message(
            thread_id=thread.pk,
            client_id=uuid.uuid4(),
            body="Yes, from ten to four.",
            author=Message.Author.OPERATOR,
            author_name="Ayşe",
        )

    with ThreadPoolExecutor(1) as pool:
        pool.submit(reply).result()

    [email] = smtp.inbox.wait_for(len(smtp.inbox.messages) + 1)[-1:]
    text = text_part(email)
    assert "Yes, from ten to four." in text
    link = re.search(r"http://127\.0\.0\.1:\d+/email/open/\S+/", text)
    assert link is not None

    elsewhere = mail_page()  # another browser: its own visitor
    elsewhere.goto(link.group(0))
    elsewhere.wait_for_selector(
        '#connection-state[data-state="open"]', state="attached"
    )
    expect(elsewhere.locator("#messages")).to_contain_text("Are you open on Sunday?")
    expect(elsewhere.locator("#messages")).to_contain_text("Yes, from ten to four.")
    expect(elsewhere.locator("#email-ask")).to_be_hidden()  # the address is known


def test_the_unsubscribe_link_works_in_any_browser(mail_page: Any) -> None:
    page = mail_page()
    page.fill("#email-input", "bob@example.com")
    page.click("#email-save")
    expect(page.locator("#email-ask")).to_be_hidden()
    visitor = Visitor.objects.get(email="bob@example.com")
    elsewhere = mail_page()  # no session of the visitor's: none is needed

    elsewhere.goto(f"/email/unsubscribe/{unsubscribe_token(visitor.pk)}/")

    expect(elsewhere.locator("h1")).to_have_text("You are unsubscribed")
    visitor.refresh_from_db()
    assert visitor.email_unsubscribed_at is not None
    assert violations(elsewhere) == []


def test_not_now_hides_the_form_on_the_next_pages_too(visitor_page: Any) -> None:
    page = visitor_page()  # nobody online, an address not required
    expect(page.locator("#email-ask")).to_be_visible()
    expect(page.locator("#composer-input")).to_be_enabled()

    page.click("#email-dismiss")
    expect(page.locator("#email-ask")).to_be_hidden()
    page.reload()
    page.wait_for_selector('#connection-state[data-state="open"]', state="attached")

    expect(page.locator("#email-ask")).to_be_hidden()
    assert page.errors == []


def test_the_transcript_is_offered_when_the_conversation_closes(
    visitor_page: Any, operator_page: Any
) -> None:
    inbox = operator_page()
    page = visitor_page()
    expect(page.locator("#email-ask")).to_be_hidden()  # someone is online
    send_as_visitor(page, "Thanks, that is all.")
    expect(page.locator(SENT)).to_have_count(1)
    open_thread(inbox)
    inbox.click("#close-thread")

    offer = page.locator("#transcript-offer")
    expect(offer).to_be_visible()
    offer.click()
    expect(page.locator("#email-ask-hint")).to_have_text(
        "Where should we send the conversation?"
    )
    page.fill("#email-input", "ada@example.com")
    page.click("#email-save")

    expect(page.locator("#toast")).to_contain_text("On its way")
    thread = Visitor.objects.get(email="ada@example.com").threads.get()
    assert thread.outbox.filter(channel="email", kind="transcript").count() == 1
    assert page.errors == [] and inbox.errors == []
