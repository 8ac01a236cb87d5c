"""Test settings: the production settings module, with what tests need changed.

``DATABASE_URL`` and ``REDIS_URL`` pick the backends exactly as in production; without
them the embedded defaults apply (SQLite, in-memory layer, local-memory cache).
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")


def _isolate_xdist_worker() -> None:
    """Under pytest-xdist (scripts/test.sh), worker ``gwN`` gets Redis databases and a
    channel-layer prefix of its own (pub/sub channels are shared by every database);
    pytest-django gives it a test database of its own. Written into the environment
    once, so that the servers a test starts inherit the same."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or os.environ.get("SOHBET_TEST_WORKER") == worker:
        return
    os.environ["SOHBET_TEST_WORKER"] = worker
    number = int(worker.removeprefix("gw") or 0)
    os.environ["CHANNEL_LAYER_PREFIX"] = f"sohbet-{worker}"
    url = os.environ.get("REDIS_URL", "")
    if url and not os.environ.get("REDIS_CACHE_URL"):
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(url)
        base = int(parts.path.strip("/") or 0) + 2 * number
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{base}"))


_isolate_xdist_worker()

from chatsite.settings import *  # noqa: E402, F403
from chatsite.settings import BASE_DIR, DATABASES  # noqa: E402

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the browser tests' server process opens the same database.
    (BASE_DIR / ".tmp").mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".tmp" / "test-db.sqlite3")}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The browser tests' Daphne process runs on the database pytest-django created.
if os.environ.get("SOHBET_TEST_SERVER_DB"):
    DATABASES["default"]["NAME"] = os.environ["SOHBET_TEST_SERVER_DB"]

# The widget: host pages of the browser tests are on http://localhost:<port> (the
# chat on 127.0.0.1: another site); 127.0.0.1 pages stand for a site not allowed.
SOHBET_WIDGET_SITES = ["http://localhost:*"]
SOHBET_WIDGET_IDENTITY_SECRET = "widget-test-secret"  # noqa: S105 - a test value
# The browser tests' server has a cache of its own without Redis: it must see the
# appearance and the conversations a test has just written.
SOHBET_APPEARANCE_CACHE_SECONDS = 0
SOHBET_REPLY_TIME_SECONDS = 0
# Tests send the email outbox themselves (chat.email.worker.send_due); a server
# process a test starts may run the worker (SOHBET_EMAIL_WORKER=1 in its env).
SOHBET_EMAIL_WORKER = os.environ.get("SOHBET_EMAIL_WORKER") == "1"
# Web Push: off unless a test turns it on (tests/push/conftest.py); the tests' push
# service listens on 127.0.0.1. A server process a test starts may run the worker.
SOHBET_PUSH_SERVICE_HOSTS = [*SOHBET_PUSH_SERVICE_HOSTS, "127.0.0.1"]  # noqa: F405
SOHBET_PUSH_WORKER = os.environ.get("SOHBET_PUSH_WORKER") == "1"
