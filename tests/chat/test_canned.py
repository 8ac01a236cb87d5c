"""Canned replies on the operator socket (``canned.list``, ``canned.attach``), their
placeholders, and managing them in the admin."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chat.canned import fill, get_canned_reply_by_shortcut
from chat.models import Attachment, CannedReply
from chat.services.canned import save_canned_reply
from chat.uploads import clean_upload
from tests.samples import png

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@sync_to_async
def make_reply(shortcut: str, owner: Any = None, *, image: bool = False, **fields):
    reply = CannedReply(
        shortcut=shortcut,
        title=fields.pop("title", shortcut.title()),
        body=fields.pop("body", f"Text of {shortcut}"),
        owner=owner,
        **fields,
    )
    cleaned = clean_upload(png(), name="map.png") if image else None
    return save_canned_reply(reply=reply, file=cleaned)


def test_fill_replaces_placeholders_and_drops_missing_ones_tidily():
    values = {"operator_name": "Ayşe", "team_name": "Acme", "visitor_name": ""}
    text = "Hi {visitor_name}, I am {operator_name} of {team_name}. {unknown}"
    assert fill(text, values) == "Hi, I am Ayşe of Acme. {unknown}"
    assert fill("{visitor_name}, welcome!", values) == "welcome!"
    assert fill("Merhaba {visitor_name}!", {"visitor_name": "Ali"}) == "Merhaba Ali!"


async def test_an_operator_lists_their_own_and_the_shared_replies_only(
    connect_operator, make_operator
):
    ayse = await make_operator("ayse")
    mehmet = await make_operator("mehmet")
    await make_reply("hello", title="Greeting")
    await make_reply("mine", ayse, language="tr")
    await make_reply("theirs", mehmet)
    operator = await connect_operator(ayse)
    await operator.send(type="canned.list")
    frame = await operator.receive_type("canned")
    listed = {r["shortcut"]: r for r in frame["replies"]}
    assert set(listed) == {"hello", "mine"}
    assert listed["hello"]["shared"] is True and listed["mine"]["shared"] is False
    assert listed["mine"]["language"] == "tr"
    assert listed["hello"]["title"] == "Greeting"
    assert listed["hello"]["team_name"]  # the site's name without an appearance


async def test_a_replys_file_is_copied_into_the_thread_and_sent_as_usual(
    connect_operator, connect_visitor
):
    operator = await connect_operator()
    reply = await make_reply("map", image=True)
    visitor = await connect_visitor(written=True)
    thread = visitor.hello["thread"]["id"]
    await operator.send(type="canned.attach", thread=thread, canned=reply.pk)
    frame = await operator.receive_type("canned.attachment")
    attachment = frame["attachment"]
    assert (frame["thread"], frame["canned"]) == (thread, reply.pk)
    assert (attachment["kind"], attachment["name"]) == ("image", "map.png")
    await operator.send(
        type="message.send",
        thread=thread,
        client_id=str(uuid.uuid4()),
        body="Here is the map",
        attachment=attachment["id"],
    )
    await operator.receive_type("ack")
    message = (await visitor.receive_type("message"))["message"]
    assert message["body"] == "Here is the map"
    assert message["attachment"]["id"] == attachment["id"]
    copy = await Attachment.objects.aget(pk=attachment["id"])
    stored = await CannedReply.objects.aget(pk=reply.pk)
    assert copy.thread_id == thread and copy.file.name != stored.file.name
    assert copy.size == stored.file_size


async def test_another_operators_reply_cannot_be_attached(
    connect_operator, connect_visitor, make_operator
):
    other = await make_operator("mehmet")
    reply = await make_reply("secret", other, image=True)
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    thread = visitor.hello["thread"]["id"]
    await operator.send(type="canned.attach", thread=thread, canned=reply.pk)
    assert (await operator.receive_type("error"))["code"] == "not_found"
    assert not await Attachment.objects.filter(thread_id=thread).aexists()


async def test_copies_past_the_hourly_cap_are_refused(
    connect_operator, connect_visitor, settings
):
    settings.SOHBET_CANNED_FILES_PER_HOUR = 1
    reply = await make_reply("map", image=True)
    operator = await connect_operator()
    visitor = await connect_visitor(written=True)
    thread = visitor.hello["thread"]["id"]
    await operator.send(type="canned.attach", thread=thread, canned=reply.pk)
    await operator.receive_type("canned.attachment")
    await operator.send(type="canned.attach", thread=thread, canned=reply.pk)
    assert (await operator.receive_type("error"))["code"] == "rate_limited"
    assert await Attachment.objects.filter(thread_id=thread).acount() == 1


# --- The admin ---------------------------------------------------------------------


def _admin(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**fields: Any) -> dict[str, Any]:
    return {"shortcut": "", "title": "T", "body": "B", "language": "", **fields}


def test_an_operator_adds_their_own_reply_with_a_checked_file(django_user_model):
    ayse = django_user_model.objects.create_user("ayse", password="x", is_staff=True)
    client = _admin(ayse)
    response = client.post(
        "/admin/chat/cannedreply/add/",
        _form(shortcut="/Map", shared="on", upload=SimpleUploadedFile("m.png", png())),
    )
    assert response.status_code == 302, response.content
    reply = CannedReply.objects.get()
    # Not shared: the operator may not share; the shortcut is kept bare and lower.
    assert (reply.owner_id, reply.shortcut) == (ayse.pk, "map")
    assert (reply.file_kind, reply.file_name) == ("image", "m.png")
    page = client.get(f"/admin/chat/cannedreply/{reply.pk}/change/").content.decode()
    assert "m.png" in page and 'name="remove_file"' in page
    mine = client.get("/admin/chat/cannedreply/?whose=mine").content.decode()
    assert "/map" in mine
    refused = client.post(
        "/admin/chat/cannedreply/add/",
        _form(shortcut="x", upload=SimpleUploadedFile("a.html", b"<html>" * 20)),
    )
    assert refused.status_code == 200 and CannedReply.objects.count() == 1


def test_shared_replies_are_read_only_without_the_permission(django_user_model):
    ayse = django_user_model.objects.create_user("ayse", password="x", is_staff=True)
    shared = CannedReply.objects.create(shortcut="hello", title="Hi", body="Hi")
    client = _admin(ayse)
    url = f"/admin/chat/cannedreply/{shared.pk}/change/"
    assert client.post(url, _form(shortcut="hi", shared="on")).status_code == 403
    ayse.user_permissions.add(
        Permission.objects.get(codename="manage_shared_cannedreply")
    )
    client = _admin(django_user_model.objects.get(pk=ayse.pk))
    response = client.post(url, _form(shortcut="hi", shared="on"))
    assert response.status_code == 302
    shared.refresh_from_db()
    assert (shared.shortcut, shared.owner_id) == ("hi", None)


def test_the_list_shows_own_and_shared_not_a_colleagues(django_user_model):
    ayse = django_user_model.objects.create_user("ayse", password="x", is_staff=True)
    mehmet = django_user_model.objects.create_user("mehmet", password="x")
    CannedReply.objects.create(shortcut="shared1", title="S", body="S")
    CannedReply.objects.create(shortcut="own1", title="O", body="O", owner=ayse)
    CannedReply.objects.create(shortcut="other1", title="X", body="X", owner=mehmet)
    page = _admin(ayse).get("/admin/chat/cannedreply/").content.decode()
    assert "/shared1" in page and "/own1" in page and "/other1" not in page


async def test_a_canned_attach_without_its_ids_is_refused(connect_operator):
    operator = await connect_operator()
    await operator.send(type="canned.attach", thread=1)
    error = await operator.receive_type("error")
    assert error["code"] == "invalid" and "canned" in error["detail"]


async def test_an_own_reply_comes_before_a_shared_one_of_the_same_shortcut(
    connect_operator, make_operator
):
    ayse = await make_operator("ayse")
    shared = await make_reply("hello", body="shared")
    own = await make_reply("hello", ayse, body="own")
    operator = await connect_operator(ayse)
    await operator.send(type="canned.list")
    listed = (await operator.receive_type("canned"))["replies"]
    assert [r["id"] for r in listed] == [own.pk, shared.pk]
    found = await sync_to_async(get_canned_reply_by_shortcut)(
        user_id=ayse.pk, shortcut="HELLO"
    )
    assert found is not None and found.pk == own.pk
