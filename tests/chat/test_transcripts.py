"""Downloading a conversation (HTML, PDF) and a visitor's data, from the admin."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from pypdf import PdfReader

from accounts.roles import OPERATORS_GROUP
from chat import services
from chat.models import Message
from tests.samples import post_every_kind

pytestmark = pytest.mark.django_db

TURKISH = "Çağrı şöyle: ığdır İstanbul’da"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def operator(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(
        "ayse", password="x", is_staff=True, first_name="Ayşe"
    )
    user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    return user


@pytest.fixture
def operator_client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def conversation(operator: Any) -> Any:
    visitor, thread = services.start_visitor(session_key="s1")
    services.post_message(
        thread_id=thread.pk, client_id=uuid.uuid4(), body=HOSTILE, author_name="Elif"
    )
    services.post_message(
        thread_id=thread.pk,
        client_id=uuid.uuid4(),
        body=TURKISH,
        author=Message.Author.OPERATOR,
        operator_id=operator.pk,
        author_name="Ayşe",
    )
    post_every_kind(thread.pk)
    return thread


def test_the_html_transcript_escapes_the_text_and_lists_the_files(
    operator: Any, operator_client: Client
) -> None:
    thread = conversation(operator)
    response = operator_client.get(
        f"/admin/chat/thread/{thread.pk}/transcript.html?tz=Europe/Istanbul"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="conversation-{thread.pk}.html"'
    )
    assert "default-src 'none'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert TURKISH.replace("’", "&#x27;") in html or TURKISH in html
    assert "Europe/Istanbul (UTC+03:00)" in html
    attachment = thread.attachments.get(name="invoice.pdf")
    link = f"http://testserver/attachments/{attachment.pk}/invoice.pdf"
    assert html.count(f'href="{link}"') == 2  # beside its message, and in Files
    assert "<link" not in html and "<script" not in html  # self-contained


def test_the_html_transcript_speaks_the_operators_language(
    operator: Any, operator_client: Client
) -> None:
    thread = conversation(operator)
    url = f"/admin/chat/thread/{thread.pk}/transcript.html"
    english = operator_client.get(url, headers={"accept-language": "en"})
    turkish = operator_client.get(url, headers={"accept-language": "tr"})
    assert "Time zone" in english.content.decode()
    assert "Saat dilimi" in turkish.content.decode()
    assert '<html lang="tr">' in turkish.content.decode()
    assert "UTC (UTC+00:00)" in english.content.decode()  # the site's, stated


def test_the_pdf_transcript_carries_turkish_text_and_file_links(
    operator: Any, operator_client: Client
) -> None:
    thread = conversation(operator)
    response = operator_client.get(f"/admin/chat/thread/{thread.pk}/transcript.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert TURKISH in text
    assert HOSTILE in text
    assert "invoice.pdf" in text
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
    ]
    attachment = thread.attachments.get(name="invoice.pdf")
    assert f"http://testserver/attachments/{attachment.pk}/invoice.pdf" in links


def test_without_its_font_the_pdf_falls_back_to_html(
    operator: Any, operator_client: Client, settings: Any
) -> None:
    settings.SOHBET_PDF_FONT = "/nonexistent/font.ttf"
    thread = conversation(operator)
    response = operator_client.get(
        f"/admin/chat/thread/{thread.pk}/transcript.pdf?tz=UTC"
    )
    assert response.status_code == 302
    assert response["Location"] == (
        f"/admin/chat/thread/{thread.pk}/transcript.html?tz=UTC"
    )
    from django.core import checks

    assert "chat.W006" in [message.id for message in checks.run_checks()]


def test_the_conversation_admin_page_offers_both_downloads(
    operator: Any, operator_client: Client
) -> None:
    thread = conversation(operator)
    html = operator_client.get(f"/admin/chat/thread/{thread.pk}/change/").content
    assert f'href="/admin/chat/thread/{thread.pk}/transcript.html"'.encode() in html
    assert f'href="/admin/chat/thread/{thread.pk}/transcript.pdf"'.encode() in html


def test_transcripts_need_the_right_to_view_conversations(
    django_user_model: Any, operator: Any
) -> None:
    thread = conversation(operator)
    staff = django_user_model.objects.create_user("bare", password="x", is_staff=True)
    client = Client()
    client.force_login(staff)
    url = f"/admin/chat/thread/{thread.pk}/transcript.html"
    assert client.get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to the sign-in
    assert Client().get(url).url.startswith("/admin/login/")


def test_a_visitors_data_export_holds_everything_stored_about_them(
    operator: Any, operator_client: Client, django_user_model: Any
) -> None:
    thread = conversation(operator)
    visitor = thread.visitor
    services.close_thread(thread_id=thread.pk)
    url = f"/admin/chat/visitor/{visitor.pk}/export.json"
    assert operator_client.get(url).status_code == 403  # operators may not export
    operator.user_permissions.add(
        Permission.objects.get(codename="view_conversationexport")
    )
    operator = django_user_model.objects.get(pk=operator.pk)
    page = operator_client.get(f"/admin/chat/visitor/{visitor.pk}/change/")
    assert f'href="{url}"'.encode() in page.content
    response = operator_client.get(url)
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["visitor"]["id"] == visitor.pk
    [exported] = data["conversations"]
    assert exported["id"] == thread.pk and exported["status"] == "closed"
    bodies = [m["body"] for m in exported["messages"]]
    assert bodies[:2] == [HOSTILE, TURKISH]
    assert len(bodies) == Message.objects.filter(thread=thread).count()
    files = [m["file"] for m in exported["messages"] if m["file"]]
    assert {f["name"] for f in files} == {
        "screenshot.png",
        "voice-note.wav",
        "invoice.pdf",
    }
    assert all(f["url"].startswith("http://testserver/attachments/") for f in files)
    assert data["unsent_files"] == []
