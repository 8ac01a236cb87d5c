"""The conversation and message pages of the Django admin: read-only, files shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import OPERATORS_GROUP
from chat import services
from tests.samples import post_every_kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def operator_client(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("mehmet", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
    client = Client()
    client.force_login(user)
    return client


def test_the_conversation_page_is_read_only_and_shows_every_file(
    operator_client: Client,
) -> None:
    _visitor, thread = services.start_visitor(session_key="s1")
    image, audio, document, _text = post_every_kind(thread.pk)
    page = operator_client.get(f"/admin/chat/thread/{thread.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for cursor in (
        "operator_read_up_to",
        "operator_delivered_up_to",
        "visitor_read_up_to",
    ):
        assert f'name="{cursor}"' not in html
    form = html[html.index('id="thread_form"') :]
    fields = re.findall(r"<(?:input|textarea|select)\b[^>]*>", form)
    assert [f for f in fields if 'type="hidden"' not in f] == []
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    for message in (image, audio, document):
        url = f"/attachments/{message.attachment.pk}/{message.attachment.name}"
        assert f'<a href="{url}"' in html
    image_url = f"/attachments/{image.attachment.pk}/screenshot.png"
    assert f'<img src="{image_url}" alt="screenshot.png"' in html
    assert (
        f'<audio controls preload="none" src="/attachments/{audio.attachment.pk}/'
        in html
    )
    assert "invoice.pdf</a>" in html
    assert operator_client.get(image_url).status_code == 200


def test_a_message_page_shows_its_file_with_a_link_and_a_thumbnail(
    operator_client: Client,
) -> None:
    _visitor, thread = services.start_visitor(session_key="s1")
    image = post_every_kind(thread.pk)[0]
    html = operator_client.get(
        f"/admin/chat/message/{image.pk}/change/"
    ).content.decode()
    assert f'<img src="/attachments/{image.attachment.pk}/screenshot.png"' in html
    assert 'name="_save"' not in html
    listing = operator_client.get("/admin/chat/message/").content.decode()
    assert "📎 invoice.pdf" in listing


def test_a_file_name_is_shown_as_text(operator_client: Client) -> None:
    from chat.admin import attachment_html
    from chat.models import Attachment

    attachment = Attachment(pk=7, kind="file", name='<b onclick="x">.pdf', size=10)
    html = str(attachment_html(attachment))
    assert "<b " not in html and "&lt;b onclick=&quot;x&quot;&gt;.pdf" in html
