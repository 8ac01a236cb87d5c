"""The Telegram bridge against the fake Bot API on 127.0.0.1: as its own process
(``start_bridge``, real time, Telegram's limits ten times as fast), or in this process
on a virtual clock with Telegram's own limits (``bridge``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from telegram_bridge import services
from telegram_bridge.bot import Bridge, build_application
from tests.telegram.clock import VirtualClock
from tests.telegram.fakebot import (
    BOT_ID,
    BOT_USERNAME,
    TELEGRAM,
    FakeBotApi,
    FloodRules,
    Window,
)

ROOT = Path(__file__).resolve().parents[2]
CHAT_ID = -1001234567890
# Telegram's limits ten times as fast, in the fake and in the bridge alike: the
# bridge is held to them without the tests waiting Telegram's minute.
FLOOD = TELEGRAM.scaled(0.1)


def rate(window: Window | None) -> str:
    assert window is not None
    return f"{window.count}/{window.seconds:g}"


def rate_settings(flood: FloodRules = FLOOD) -> dict[str, str]:
    """The bridge's TELEGRAM_RATE_* for the fake's limits."""
    return {
        "TELEGRAM_RATE_PER_CHAT": rate(flood.per_chat),
        "TELEGRAM_RATE_PER_GROUP": rate(flood.per_group),
        "TELEGRAM_RATE_OVERALL": rate(flood.overall),
    }


@pytest.fixture
def fake_api(request: pytest.FixtureRequest) -> Iterator[FakeBotApi]:
    """The fake Bot API; the operator chat is a forum unless the test is marked
    ``plain_group``."""
    api = FakeBotApi(
        is_forum=request.node.get_closest_marker("plain_group") is None, flood=FLOOD
    )
    api.start()
    try:
        yield api
    finally:
        api.stop()
    # Whatever the test, the bridge never called Telegram during a flood wait.
    assert api.flood_violations == []


def api_url(api: FakeBotApi) -> str:
    return api.base_url.removesuffix("/bot")


@pytest.fixture
def telegram_settings(settings: Any, fake_api: FakeBotApi) -> FakeBotApi:
    """This process (web side) configured for the fake bot."""
    settings.TELEGRAM_BOT_TOKEN = fake_api.token
    settings.TELEGRAM_CHAT_ID = str(CHAT_ID)
    settings.TELEGRAM_API_URL = api_url(fake_api)
    settings.TELEGRAM_ENABLED = True
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    return fake_api


class BridgeProcess:
    """``manage.py runtelegram`` in a subprocess, stopped by its PID."""

    def __init__(
        self, api: FakeBotApi, db_name: str, log: Path, env: dict[str, str]
    ) -> None:
        self.api = api
        self.db_name = db_name
        self.log = log
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BridgeProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "SOHBET_TEST_SERVER_DB": self.db_name,
            "TELEGRAM_BOT_TOKEN": self.api.token,
            "TELEGRAM_CHAT_ID": str(CHAT_ID),
            "TELEGRAM_API_URL": api_url(self.api),
            "TELEGRAM_LEASE_SECONDS": "3",
            "TELEGRAM_LEAVE_NOTE_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            **rate_settings(),
            **self.env,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runtelegram", "--poll-timeout", "1"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def terminate(self) -> int:
        """SIGTERM: a clean stop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def kill(self) -> None:
        """SIGKILL: the bridge dies wherever it is."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_bridge(
    fake_api: FakeBotApi, transactional_db: None, tmp_path: Path
) -> Iterator[Any]:
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the bridge needs Redis (REDIS_URL) under CI=true")
        pytest.skip("the bridge needs Redis (REDIS_URL)")
    db_name = str(connection.settings_dict["NAME"])
    started: list[BridgeProcess] = []

    def start(**env: str) -> BridgeProcess:
        """Start a bridge; ``env`` adds or overrides its environment."""
        bridge = BridgeProcess(
            fake_api, db_name, tmp_path / f"bridge-{len(started)}.log", env
        )
        started.append(bridge.start())
        return bridge

    yield start
    for bridge in started:
        if bridge.process is not None and bridge.process.poll() is None:
            bridge.process.kill()
            bridge.process.wait(20)


# --- The bridge in this process, on a virtual clock ------------------------------


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def bot_api(
    request: pytest.FixtureRequest, clock: VirtualClock
) -> Iterator[FakeBotApi]:
    """The fake Bot API with Telegram's own limits, on the virtual clock."""
    api = FakeBotApi(
        is_forum=request.node.get_closest_marker("plain_group") is None,
        clock=clock.now,
    )
    api.start()
    try:
        yield api
    finally:
        api.stop()
    assert api.flood_violations == []


@pytest.fixture
async def bridge(
    request: pytest.FixtureRequest,
    bot_api: FakeBotApi,
    clock: VirtualClock,
    transactional_db: None,
    settings: Any,
    tmp_path: Path,
) -> AsyncIterator[Bridge]:
    """A bridge in this process (holding the lease), its parts wired as after
    start-up, on the virtual clock; the tests step its parts themselves."""
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]
    settings.MEDIA_ROOT = tmp_path / "media"
    bridge = build_application(
        token=bot_api.token,
        chat_id=CHAT_ID,
        base_url=api_url(bot_api),
        owner="in-process",
        clock=clock,
        read_timeout=1.5,
        poll_timeout=0,
    )
    await bridge.bot.initialize()
    bridge.configure(
        bot_id=BOT_ID,
        bot_username=BOT_USERNAME,
        is_forum=request.node.get_closest_marker("plain_group") is None,
    )
    await database_sync_to_async(services.acquire_lease)(
        owner="in-process", ttl_seconds=3600
    )
    try:
        yield bridge
    finally:
        bridge.mirror.close()
        await bridge.bot.shutdown()


@pytest.fixture
async def operator_bridge(
    telegram_settings: Any, start_bridge: Any, make_operator: Any
) -> Any:
    """A running bridge and an operator linked to Telegram user OPERATOR_TG_ID."""
    from tests.telegram.e2e import link_operator

    start_bridge()
    await link_operator(telegram_settings, make_operator)
    return telegram_settings


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Uploads land where the bridge process reads them too."""
    settings.MEDIA_ROOT = tmp_path / "media"
    os.environ["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    yield settings.MEDIA_ROOT
    os.environ.pop("MEDIA_ROOT", None)
