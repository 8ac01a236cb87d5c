"""Message text in the admin: escaped, with safe links (chat.admin.linkify)."""

from __future__ import annotations

import uuid

import pytest

from chat import services
from chat.admin import linkify
from chat.models import Thread, Visitor

HOSTILE = (
    "<script>alert(1)</script> see https://example.com/a?b=1&c=2 or write to "
    'ayse@example.com "quoted" javascript:alert(1)\nsecond line'
)


def test_message_text_is_escaped_with_links_made_safe() -> None:
    html = linkify(HOSTILE)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">'
        "https://example.com/a?b=1&amp;c=2</a>" in html
    )
    assert '<a href="mailto:ayse@example.com">ayse@example.com</a>' in html
    assert 'href="javascript' not in html
    assert "&quot;quoted&quot;" in html
    assert html.endswith("<br>second line")


@pytest.mark.django_db
def test_the_admin_shows_a_message_with_clickable_links_and_no_markup(
    admin_client,
) -> None:
    thread = Thread.objects.create(visitor=Visitor.objects.create())
    services.post_message(thread_id=thread.pk, client_id=uuid.uuid4(), body=HOSTILE)

    page = admin_client.get(f"/admin/chat/thread/{thread.pk}/change/")
    html = page.content.decode()

    assert page.status_code == 200
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">' in html
    assert "<script>alert(1)</script>" not in html

    message = thread.messages.get()
    page = admin_client.get(f"/admin/chat/message/{message.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<a href="mailto:ayse@example.com">' in html
    assert "<script>alert(1)</script>" not in html
