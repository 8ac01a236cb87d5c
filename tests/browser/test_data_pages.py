"""The inbox's Download menu (a transcript of the open conversation) and the admin's
reports page (with axe) and the export, in a real browser."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect

from accounts.services import ensure_operator_group
from chat import services
from chat.models import Message
from tests.browser.conftest import collect_page_errors
from tests.browser.pages import SENT, open_thread, send_as_visitor
from tests.browser.test_accessibility import (
    STOCK_ADMIN,
    assert_accessible,
    in_background,
)

pytestmark = pytest.mark.django_db(transaction=True)

TURKISH = "Siparişim nerede? Ağaç, ışık, İzmir"


def signed_in(new_context: Any, server: Any, user: Any, path: str) -> Any:
    """A page of ``user``'s signed-in session."""
    client = Client()
    client.force_login(user)
    context = new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}]
    )
    page = context.new_page()
    page.errors = collect_page_errors(page)
    page.goto(path)
    return page


def test_an_operator_downloads_the_open_conversation_from_the_inbox(
    visitor_page: Any, new_context: Any, daphne_server: Any, tmp_path: Path
) -> None:
    visitor = visitor_page()
    send_as_visitor(visitor, TURKISH)
    expect(visitor.locator(SENT)).to_have_count(1)
    user = get_user_model().objects.create_user("ayse", is_staff=True)
    user.groups.add(ensure_operator_group())  # may view conversations
    inbox = signed_in(new_context, daphne_server, user, "/admin/inbox/")
    inbox.wait_for_selector('#connection-state[data-state="open"]', state="attached")
    open_thread(inbox)
    thread_id = inbox.locator("#conversation").get_attribute("data-thread-id")
    menu = inbox.locator("#transcript-menu")
    menu.locator("summary").click()
    html_link = menu.get_by_role("link", name="Transcript (HTML)")
    expect(html_link).to_be_visible()
    expect(html_link).to_have_attribute(
        "href", re.compile(rf"^/admin/chat/thread/{thread_id}/transcript\.html\?tz=")
    )
    with inbox.expect_download() as info:
        html_link.click()
    saved = tmp_path / "transcript.html"
    info.value.save_as(saved)
    assert info.value.suggested_filename == f"conversation-{thread_id}.html"
    assert TURKISH in saved.read_text(encoding="utf-8")
    expect(menu).not_to_have_attribute("open", "")  # closed after the choice
    assert inbox.errors == []


def seed_conversations(operator: Any) -> None:
    """Three conversations today, two of them answered by ``operator``."""
    for n in range(3):
        _visitor, thread = services.start_visitor(session_key=f"r{n}")
        services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body="?")
        if n:
            services.post_message(
                thread_id=thread.pk,
                client_id=uuid.uuid4(),
                body="!",
                author=Message.Author.OPERATOR,
                operator_id=operator.pk,
                author_name="Ayşe",
            )


def test_the_reports_page_reads_at_a_glance_and_the_export_streams(
    new_context: Any, daphne_server: Any, tmp_path: Path
) -> None:
    owner = get_user_model().objects.create_superuser("owner", password="x")
    operator = get_user_model().objects.create_user(
        "ayse", is_staff=True, first_name="Ayşe"
    )
    today = dt.date.today()
    in_background(seed_conversations, operator)
    page = signed_in(new_context, daphne_server, owner, "/admin/")
    page.get_by_role("link", name="Reports").click()
    expect(page.locator("#id_start")).to_have_value(
        (today - dt.timedelta(days=6)).isoformat()
    )
    operators = page.locator("table[aria-labelledby='report-operators']")
    expect(operators.locator("tbody tr").first).to_contain_text("Ayşe")
    expect(operators.locator("tfoot")).to_contain_text("3")
    expect(page.locator(".data-heatmap tbody tr")).to_have_count(7)
    assert_accessible(page, exclude=STOCK_ADMIN)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    assert info.value.suggested_filename.startswith("report-")
    page.get_by_role("link", name="Conversation exports").click()
    with page.expect_download() as info:  # streamed by the production server
        page.get_by_role("button", name="Download").click()
    saved = tmp_path / "export.csv"
    info.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("thread_id,") and len(lines) == 1 + 5
