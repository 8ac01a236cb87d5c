"""Health, housekeeping and logs: fixtures shared by these tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatsite import health


@pytest.fixture(autouse=True)
def _fresh_health_report() -> Iterator[None]:
    # The report is kept in process memory between polls; each test starts without.
    health.reset_report()
    yield
    health.reset_report()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    # The storage check writes (and deletes) a file under MEDIA_ROOT.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
