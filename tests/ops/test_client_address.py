"""Which client a limit counts: an IPv4 address, an IPv6 /64 network."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from chat import views
from realtime.clientip import get_scope_client_ip, rate_limit_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::7", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::7]", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not an address", "not an address"),
        ("", ""),
    ],
)
def test_limits_count_ipv4_per_address_and_ipv6_per_64(address: str, key: str) -> None:
    assert rate_limit_key(address) == key


def test_a_socket_address_follows_the_proxy_header_as_http_does(settings: Any) -> None:
    scope = {
        "client": ["10.0.0.1", 5000],
        "headers": [(b"x-forwarded-for", b"9.9.9.9, 198.51.100.4")],
    }
    assert get_scope_client_ip(scope) == "10.0.0.1"
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    # The right-most entry is the nearest proxy's word; the left-most the client's.
    assert get_scope_client_ip(scope) == "198.51.100.4"
    assert get_scope_client_ip({"client": ["10.0.0.1", 5000], "headers": []}) == (
        "10.0.0.1"
    )


@pytest.mark.django_db
def test_one_ipv6_host_has_one_budget_for_the_chat_page(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    # A small budget: django-ratelimit counts in fixed windows, and a long burst on a
    # busy machine may straddle two of them (a short one is run again if it did).
    monkeypatch.setattr(views, "VISITOR_PAGE_RATE", "5/m")
    for _attempt in range(2):
        cache.clear()
        statuses = [
            client.get("/", HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n + 1:x}").status_code
            for n in range(5)
        ]
        # Another address of the same /64 is the same host: no fresh budget.
        blocked = client.get("/", HTTP_X_FORWARDED_FOR="2001:db8:1:2:abcd::1")
        if blocked.status_code == 429:
            break
    assert statuses == [200] * 5
    assert blocked.status_code == 429
    assert client.get("/", HTTP_X_FORWARDED_FOR="2001:db8:1:3::1").status_code == 200
