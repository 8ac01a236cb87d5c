"""Forwarding headers and the root path are believed only from a trusted proxy
(realtime.proxies.believed)."""

from __future__ import annotations

from typing import Any

import pytest

from realtime.proxies import believed

FORWARDED = [
    (b"host", b"chat.example.com"),
    (b"x-forwarded-for", b"203.0.113.9"),
    (b"x-forwarded-proto", b"https"),
    (b"x-real-ip", b"203.0.113.9"),
    (b"forwarded", b"for=203.0.113.9"),
    (b"x-client", b"203.0.113.9"),
]


def scope(peer: str) -> dict[str, Any]:
    return {
        "type": "http",
        "client": [peer, 50000],
        "root_path": "//evil.example",
        "headers": list(FORWARDED),
    }


@pytest.fixture(autouse=True)
def _client_ip_header(settings: Any) -> None:
    settings.CLIENT_IP_HEADER = "X-Client"


def test_a_listed_proxy_is_believed(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert believed(scope("10.1.2.3")) == scope("10.1.2.3")


def test_another_peer_loses_its_forwarding_headers_and_root_path(
    settings: Any,
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    seen = believed(scope("198.51.100.7"))
    assert seen["root_path"] == ""
    assert seen["headers"] == [(b"host", b"chat.example.com")]


def test_without_a_list_forwarding_headers_stay_and_the_root_path_goes(
    settings: Any,
) -> None:
    settings.TRUSTED_PROXIES = []
    seen = believed(scope("10.1.2.3"))
    assert seen["root_path"] == ""
    assert seen["headers"] == FORWARDED


def test_an_ipv6_proxy_network_is_matched(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["fd00::/8"]
    assert believed(scope("fd12::5"))["root_path"] == "//evil.example"
    assert believed(scope("2001:db8::5"))["root_path"] == ""
