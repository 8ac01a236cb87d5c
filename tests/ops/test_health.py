"""/health/ (readiness, JSON) and /healthz/ (liveness)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services as chat_services
from chat.models import OutboxEntry
from chatsite import health
from telegram_bridge.models import BridgeState

pytestmark = pytest.mark.django_db

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
BASE_CHECKS = {"database", "channel_layer", "cache", "storage", "disk", "memory"}


@pytest.fixture
def telegram_on(settings: Any) -> None:
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_CHAT_ID = "-1001234567890"
    settings.TELEGRAM_ENABLED = True
    settings.SOHBET_OUTBOX_CHANNELS = ["telegram"]


def _bridge_state(**fields: Any) -> BridgeState:
    return BridgeState.objects.create(pk=1, **fields)


# --- The report -----------------------------------------------------------------------


def test_health_reports_every_check_with_its_fields(client: Client, settings) -> None:
    settings.SOHBET_VERSION = "1.4.2"
    response = client.get("/health/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok" and body["version"] == "1.4.2"
    assert "failing" not in body
    checks = body["checks"]
    assert set(checks) == BASE_CHECKS  # no telegram: the bridge is not configured
    assert all(check["ok"] is True for check in checks.values())
    for name in ("database", "channel_layer", "cache", "storage"):
        assert checks[name]["latency_ms"] >= 0
    assert checks["disk"]["free_mb"] > 0
    assert checks["disk"]["min_free_mb"] == settings.SOHBET_HEALTH_MIN_FREE_DISK_MB
    assert checks["memory"].get("skipped") or checks["memory"]["available_mb"] > 0


def test_the_old_path_without_a_slash_answers_the_same(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == BASE_CHECKS


def test_the_storage_check_leaves_no_file_behind(client: Client, settings) -> None:
    assert client.get("/health/").status_code == 200
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or list(media.iterdir()) == []


def test_a_failing_check_gives_503_and_is_named(client: Client, settings) -> None:
    settings.SOHBET_HEALTH_MIN_FREE_DISK_MB = 10**12  # an exabyte free: never
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failing"] == ["disk"]
    assert body["checks"]["disk"]["ok"] is False
    assert body["checks"]["disk"]["error"] == "low"
    assert body["checks"]["database"]["ok"] is True


def test_an_optional_check_is_reported_without_failing(
    client: Client, settings
) -> None:
    settings.SOHBET_HEALTH_MIN_FREE_DISK_MB = 10**12
    settings.SOHBET_HEALTH_OPTIONAL_CHECKS = ["disk"]
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["disk"]["ok"] is False


def test_redis_unreachable_fails_the_layer_and_cache_checks(
    client: Client, settings, closed_port: int
) -> None:
    url = f"redis://127.0.0.1:{closed_port}/0"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url}]},
        }
    }
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
    }
    settings.CACHES = {"default": unreachable, "ratelimit": unreachable}
    # The rate limit's counters are in that cache too: the health URL still answers.
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["channel_layer", "cache"]
    assert body["checks"]["channel_layer"] == {"ok": False, "error": "unreachable"}
    assert body["checks"]["cache"] == {"ok": False, "error": "unreachable"}
    assert str(closed_port) not in response.content.decode()


def test_a_cache_that_keeps_nothing_fails_the_cache_check(
    client: Client, settings
) -> None:
    # What a cache that hides Redis errors looks like: writes dropped, reads miss.
    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    settings.CACHES = {"default": dummy, "ratelimit": dummy}
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
    assert response.json()["checks"]["cache"] == {"ok": False, "error": "unavailable"}


def test_memory_headroom_comes_from_the_cgroup_limit(
    client: Client, settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(f"{512 * health.MB}\n")
    (cgroup / "memory.current").write_text(f"{500 * health.MB}\n")
    (cgroup / "memory.stat").write_text(f"anon 1\ninactive_file {8 * health.MB}\n")
    monkeypatch.setattr(health, "CGROUP_DIR", cgroup)
    settings.SOHBET_HEALTH_MIN_FREE_MEMORY_MB = 50
    response = client.get("/health/")
    assert response.status_code == 503
    memory = response.json()["checks"]["memory"]
    assert memory == {
        "ok": False,
        "available_mb": 20,
        "min_available_mb": 50,
        "error": "low",
    }


def test_memory_is_skipped_where_it_cannot_be_read(
    client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(health, "CGROUP_DIR", tmp_path / "none")
    monkeypatch.setattr(health, "MEMINFO_PATH", tmp_path / "none" / "meminfo")
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["checks"]["memory"] == {"ok": True, "skipped": True}


# --- Telegram -------------------------------------------------------------------------


@pytest.mark.usefixtures("telegram_on")
def test_telegram_check_reports_the_bridge_and_its_outbox(client: Client) -> None:
    now = timezone.now()
    _bridge_state(
        heartbeat_at=now - dt.timedelta(seconds=20),
        last_error=f"getUpdates: https://api.telegram.org/bot{BOT_TOKEN}/getUpdates "
        "timed out " + "x" * 400,
        last_error_at=now - dt.timedelta(minutes=3),
    )
    _visitor, thread = chat_services.start_visitor(session_key="s1")
    for body in ("one", "two"):
        chat_services.post_message(
            thread_id=thread.pk, client_id=uuid.uuid4(), body=body
        )
    OutboxEntry.objects.filter(channel="telegram").update(
        created_at=now - dt.timedelta(minutes=7)
    )

    response = client.get("/health/")

    assert response.status_code == 200
    telegram = response.json()["checks"]["telegram"]
    assert telegram["ok"] is True
    assert 20 <= telegram["heartbeat_age_seconds"] < 60
    assert telegram["outbox_backlog"] == 2
    assert 420 <= telegram["oldest_pending_age_seconds"] < 480
    assert 180 <= telegram["last_error_age_seconds"] < 240
    assert telegram["last_error"].startswith("getUpdates: [url] timed out")
    assert len(telegram["last_error"]) == 200
    assert BOT_TOKEN not in response.content.decode()


@pytest.mark.usefixtures("telegram_on")
def test_an_old_heartbeat_fails_the_telegram_check(client: Client, settings) -> None:
    settings.SOHBET_HEALTH_TELEGRAM_MAX_AGE = 120
    _bridge_state(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["telegram"]
    assert body["checks"]["telegram"]["error"] == "stale"
    assert body["checks"]["telegram"]["heartbeat_age_seconds"] >= 600


@pytest.mark.usefixtures("telegram_on")
def test_a_bridge_that_never_ran_fails_the_telegram_check(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 503
    telegram = response.json()["checks"]["telegram"]
    assert telegram["error"] == "no_heartbeat"
    assert telegram["heartbeat_age_seconds"] is None
    assert telegram["outbox_backlog"] == 0


# --- What the body never says ---------------------------------------------------------


@pytest.mark.usefixtures("telegram_on")
def test_the_body_carries_no_secret(
    client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECRET_KEY = "s3cr3t-" + "k" * 50
    settings.DATABASE_URL = "postgres://sohbet:db-pa55word@db.internal:5432/sohbet"
    _bridge_state(
        heartbeat_at=timezone.now() - dt.timedelta(hours=1),
        last_error=f"Unauthorized: {BOT_TOKEN} at {settings.DATABASE_URL}",
    )

    def leaky_cache_check() -> health.CheckResult:
        raise ConnectionError(f"cannot reach {settings.DATABASE_URL}")

    monkeypatch.setattr(health, "check_cache", leaky_cache_check)

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"ok": False, "error": "unreachable"}
    text = response.content.decode()
    for secret in (settings.SECRET_KEY, BOT_TOKEN, "db-pa55word", "db.internal"):
        assert secret not in text


# --- Cheap under polling --------------------------------------------------------------


def test_repeated_polls_are_answered_from_process_memory(
    client: Client, django_assert_num_queries: Any
) -> None:
    first = client.get("/health/").json()
    with django_assert_num_queries(0):
        again = client.get("/health/").json()
    assert again == first


def test_the_report_is_recomputed_once_it_is_old(client: Client, settings) -> None:
    from django.db import connection

    settings.SOHBET_HEALTH_CACHE_SECONDS = 0
    client.get("/health/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/health/")
    assert any("SELECT 1" in query["sql"] for query in queries.captured_queries)


def test_health_is_rate_limited_per_client_with_a_json_429(
    client: Client, settings
) -> None:
    from django.core.cache import caches

    settings.SOHBET_HEALTH_RATE = "3/m"
    for _attempt in range(2):
        # django-ratelimit counts in fixed windows: a burst that straddles two
        # proves nothing and is run again (the next one cannot straddle as well).
        caches[settings.RATELIMIT_USE_CACHE].clear()
        for _ in range(3):
            assert client.get("/health/", REMOTE_ADDR="10.1.1.1").status_code == 200
        blocked = client.get("/health/", REMOTE_ADDR="10.1.1.1")
        if blocked.status_code == 429:
            break
    assert blocked.status_code == 429
    assert blocked["Content-Type"] == "application/json"
    assert blocked.json()["status"] == "rate_limited"
    assert blocked.json()["detail"]
    assert client.get("/health/", REMOTE_ADDR="10.1.1.2").status_code == 200


# --- Liveness -------------------------------------------------------------------------


def test_liveness_answers_without_touching_services(
    client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_answers_a_platform_probe_on_any_host_over_http(
    client: Client, settings
) -> None:
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    # Railway's deploy probe: its own Host header, plain HTTP.
    probe = client.get("/healthz/", HTTP_HOST="healthcheck.railway.app")
    assert probe.status_code == 200
    assert probe.json() == {"status": "ok"}
    # Everything else still checks the host.
    other = client.get("/health/", HTTP_HOST="healthcheck.railway.app")
    assert other.status_code == 400
