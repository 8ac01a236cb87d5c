"""An upload that fails because the disk is full leaves nothing behind, through a
real server process whose file writes the kernel refuses past a size (as on a full
disk: RLIMIT_FSIZE)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.deploy.client import Peer, open_visitor
from tests.deploy.conftest import Processes

pytestmark = [pytest.mark.postgres_redis, pytest.mark.django_db(transaction=True)]

# Bytes a file may reach. Requests stay under 100,000 bytes, which Twisted keeps in
# memory (a larger body goes to a temporary file, which the limit would stop first).
ROOM = 64 * 1024


def pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + b"0" * (size - 15) + b"\n%%EOF"


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


async def test_an_upload_that_fills_the_disk_leaves_no_file_and_a_retry_works(
    processes: Processes, peers: list[Peer], tmp_path: Path
) -> None:
    media = tmp_path / "media"
    server = await asyncio.to_thread(
        processes.daphne, file_size_limit=ROOM, MEDIA_ROOT=str(media)
    )
    browser = requests.Session()
    page = await asyncio.to_thread(browser.get, server.http + "/", timeout=10)
    assert page.status_code == 200
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies['sessionid']}"
    await open_visitor(server, cookie, peers)  # the visitor exists from here on

    def upload(data: bytes) -> requests.Response:
        return browser.post(
            server.http + "/api/uploads/",
            files={"file": ("report.pdf", data, "application/pdf")},
            headers={
                "X-CSRFToken": browser.cookies["csrftoken"],
                "Origin": server.http,
                "Referer": server.http + "/",
            },
            timeout=10,
        )

    refused = await asyncio.to_thread(upload, pdf(90_000))
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "unavailable"
    assert stored_files(media) == []

    stored = await asyncio.to_thread(upload, pdf(ROOM // 2))
    assert stored.status_code == 201
    assert len(stored_files(media)) == 1
