"""Production settings as the environment makes them (chatsite/settings.py), read in
a fresh process so that nothing of the test settings leaks in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User

ROOT = Path(__file__).resolve().parents[2]

READ = """
import json
from django.conf import settings
import django
django.setup()
print(json.dumps({
    "layer": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"],
    "cache": settings.CACHES["default"]["LOCATION"],
    "counters": settings.CACHES["ratelimit"]["LOCATION"],
    "validators": settings.AUTH_PASSWORD_VALIDATORS,
}))
"""


def production_settings(**env: str) -> dict:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": "postgres://sohbet:pw@db.invalid:5432/sohbet",
        "REDIS_URL": "redis://redis.invalid:6379/0",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cache_and_the_channel_layer_use_separate_redis_databases() -> None:
    read = production_settings(REDIS_URL="redis://redis.invalid:6379/0")
    assert read["layer"] == "redis://redis.invalid:6379/0"
    assert read["cache"] == read["counters"] == "redis://redis.invalid:6379/1"


def test_the_cache_may_have_its_own_redis() -> None:
    read = production_settings(
        REDIS_URL="redis://redis.invalid:6379",
        REDIS_CACHE_URL="redis://cache.invalid:6379/4",
    )
    assert read["layer"] == "redis://redis.invalid:6379"
    assert read["cache"] == "redis://cache.invalid:6379/4"


def test_passwords_need_twelve_characters() -> None:
    validators = production_settings()["validators"]
    minimum = [v for v in validators if v["NAME"].endswith("MinimumLengthValidator")]
    assert minimum == [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        }
    ]


@pytest.mark.django_db
def test_ensure_operator_refuses_a_short_password(monkeypatch) -> None:
    monkeypatch.setenv("ADMIN_USERNAME", "deniz")
    monkeypatch.setenv("ADMIN_PASSWORD", "kisa-sifre1")  # 11 characters
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command("ensure_operator")
    assert not User.objects.filter(username="deniz").exists()


@pytest.mark.django_db
def test_ensure_operator_accepts_a_long_password(monkeypatch) -> None:
    monkeypatch.setenv("ADMIN_USERNAME", "deniz")
    monkeypatch.setenv("ADMIN_PASSWORD", "uzun ve iyi bir parola")
    call_command("ensure_operator")
    assert User.objects.get(username="deniz").check_password("uzun ve iyi bir parola")
