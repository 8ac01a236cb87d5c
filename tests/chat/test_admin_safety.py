"""Blocks and ratings in the admin: a visitor or a network blocked with a reason,
lifted by an action; the visitors' list actions; ratings listed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chat import services
from chat.models import Block, Rating

pytestmark = pytest.mark.django_db


def test_an_owner_blocks_a_visitor_and_a_network_then_lifts_them(
    admin_client: Client, admin_user: Any
) -> None:
    visitor, _thread = services.start_visitor(session_key="s1")
    picked = admin_client.post(
        "/admin/chat/visitor/",
        {"action": "block_visitors", "_selected_action": [visitor.pk]},
    )
    assert picked.status_code == 302
    assert picked["Location"].endswith(f"/admin/chat/block/add/?visitor={visitor.pk}")
    form = admin_client.get(picked["Location"])
    assert form.status_code == 200
    added = admin_client.post(
        "/admin/chat/block/add/",
        {"visitor": visitor.pk, "network": "", "reason": "insults"},
    )
    assert added.status_code == 302, added.content
    block = Block.objects.get()
    assert (block.visitor_id, block.reason, block.source, block.blocked_by_id) == (
        visitor.pk,
        "insults",
        "admin",
        admin_user.pk,
    )
    refused = admin_client.post("/admin/chat/block/add/", {"network": "not a net"})
    assert refused.status_code == 200 and Block.objects.count() == 1
    admin_client.post("/admin/chat/block/add/", {"network": "203.0.113.9/24"})
    assert Block.objects.filter(network="203.0.113.0/24", visitor=None).exists()

    admin_client.post(
        "/admin/chat/block/",
        {
            "action": "lift_selected",
            "_selected_action": list(Block.objects.values_list("pk", flat=True)),
        },
    )
    assert not Block.objects.filter(lifted_at__isnull=True).exists()
    assert set(Block.objects.values_list("lifted_by", flat=True)) == {admin_user.pk}


def test_ratings_are_listed(admin_client: Client) -> None:
    _visitor, thread = services.start_visitor(session_key="s1")
    services.close_thread(thread_id=thread.pk)
    services.rate_thread(thread_id=thread.pk, score=3, comment="Slow but kind")
    page = admin_client.get("/admin/chat/rating/")
    assert page.status_code == 200
    assert "Slow but kind" in page.content.decode()
    assert Rating.objects.get().score == 3
