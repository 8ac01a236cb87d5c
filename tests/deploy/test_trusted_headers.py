"""Headers the web process believes only from a trusted proxy, through a real
server: Daphne turns ``Daphne-Root-Path`` into the prefix of every URL Django
builds, so a client must not be able to set it (realtime.proxies)."""

from __future__ import annotations

import asyncio
import http.client
import re
import subprocess
import sys

import pytest

from tests.deploy.conftest import Processes
from tests.deploy.servers import ROOT, Daphne

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]


def get(server: Daphne, path: str, **headers: str) -> tuple[int, str, str]:
    """Status, Location and body of a GET (redirects not followed)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Location") or "", body
    finally:
        connection.close()


def script_sources(page: str) -> list[str]:
    return re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)


async def test_a_root_path_sent_by_a_client_is_ignored(processes: Processes) -> None:
    server = await asyncio.to_thread(processes.daphne)
    forged = {"Daphne-Root-Path": "//evil.example"}

    status, _, page = await asyncio.to_thread(get, server, "/", **forged)
    assert status == 200
    assert "evil.example" not in page
    assert script_sources(page)
    assert all(src.startswith(("/static/", "/jsi18n/")) for src in script_sources(page))

    status, location, _ = await asyncio.to_thread(get, server, "/admin/", **forged)
    assert status == 302
    assert location.startswith("/admin/login/")


async def test_a_trusted_proxy_sets_the_root_path(processes: Processes) -> None:
    server = await asyncio.to_thread(processes.daphne, TRUSTED_PROXIES="127.0.0.1")

    prefixed = {"Daphne-Root-Path": "/chat"}

    _, _, page = await asyncio.to_thread(get, server, "/", **prefixed)
    assert "/chat/jsi18n/" in script_sources(page)
    _, location, _ = await asyncio.to_thread(get, server, "/admin/", **prefixed)
    assert location.startswith("/chat/admin/login/")


async def test_a_root_path_from_a_peer_that_is_not_a_listed_proxy_is_ignored(
    processes: Processes,
) -> None:
    server = await asyncio.to_thread(processes.daphne, TRUSTED_PROXIES="192.0.2.1")

    _, _, page = await asyncio.to_thread(
        get, server, "/", **{"Daphne-Root-Path": "/chat"}
    )

    assert all(src.startswith(("/static/", "/jsi18n/")) for src in script_sources(page))


def test_daphnes_proxy_headers_option_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chatsite.server", "--proxy-headers"]
        + ["-b", "127.0.0.1", "-p", "1", "chatsite.asgi:application"],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--proxy-headers is not supported" in done.stderr
