"""Sohbet settings, read from the environment.

Without any variable set, the embedded defaults apply (SQLite, in-memory channel layer,
local-memory cache, local media), which is what `make run` uses. Production sets
``DATABASE_URL``, ``REDIS_URL`` and the ``DJANGO_*`` variables; see ``.env.example``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from chatsite.email import email_settings
from chatsite.storage import cloudinary_config_from_env, cloudinary_storage_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [
        part.strip()
        for part in os.environ.get(name, default).split(",")
        if part.strip()
    ]


def redis_url_with_next_db(url: str) -> str:
    """``url`` with its database number plus one (``/0`` or none: ``/1``)."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    if not number.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL: {number!r} is not a database number")
    return urlunsplit(parts._replace(path=f"/{int(number) + 1}"))


# --- Core -----------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. "
            "Set it to a long random value (see .env.example), or set DJANGO_DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else ""
)
# CORS_ORIGINS is the old system's name for the same list.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or env_list("CORS_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "chatsite.apps.SohbetAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "realtime",
    "accounts",
    "chat",
    "telegram_bridge",
]

MIDDLEWARE = [
    # Before host validation and the HTTPS redirect: a platform's probe (Railway sends
    # Host: healthcheck.railway.app over plain HTTP) must reach /healthz/.
    "chatsite.middleware.LivenessProbeMiddleware",
    "realtime.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "chatsite.sessions.LegacySessionCookieMiddleware",
    "chatsite.middleware.VisitorTokenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.OperatorIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chatsite.middleware.ContentSecurityPolicyMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database -------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's psycopg pool: one connection per message from a consumer is what
        # made the naive design slow (see docs/performance.md).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Connections outlive a PostgreSQL restart in the pool, dead: with the pool,
        # this makes it check each one as it is handed out (one round trip) rather
        # than fail the request that gets it.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 1),
            "max_size": env_int("DATABASE_POOL_MAX", 10),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            # After an outage the pool retries with a doubling back-off; giving up
            # after 30 s (the next request starts afresh) keeps the wait between
            # attempts, and so the recovery after PostgreSQL is back, under ~15 s
            # (the default, 300 s, lets it grow past a minute).
            "reconnect_timeout": 30,
        }
        # Every wait on the database is bounded: a statement running, or waiting for
        # a lock, longer than this fails, and the client is told to retry
        # (`unavailable`) instead of waiting with no answer. Migrations lift both
        # (chat.signals). Seconds; 0: no bound.
        _options = DATABASES["default"]["OPTIONS"]
        _options["options"] = " ".join(
            part
            for part in (
                _options.get("options", ""),
                f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT', 10)}s",
                f"-c lock_timeout={env_int('DATABASE_LOCK_TIMEOUT', 3)}s",
            )
            if part
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# --- Channel layer, cache -------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache (sessions, rate counters, presence) in a Redis database of its own, so
# that clearing or evicting it never touches the channel layer: REDIS_CACHE_URL, or
# REDIS_URL's database number + 1.
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "") or (
    redis_url_with_next_db(REDIS_URL) if REDIS_URL else ""
)
if REDIS_URL:
    # The pub/sub layer publishes a group event once per Redis, whatever the number of
    # members, and resubscribes after Redis restarts. It keeps no per-channel capacity:
    # live delivery is an optimisation, the database is the record (clients sync).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py's default 5 s socket timeout races blocking reads;
                        # the pool must wait rather than raise under load.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 30,
                        "retry_on_timeout": True,
                    }
                ],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "sohbet"),
            },
        }
    }
    # While Redis is away the default cache reads as empty (sessions come from the
    # database) and the rate counters raise, so each rate-limited view decides
    # whether to fail open or closed (realtime/cache.py, docs/operations.md).
    _redis_cache = {
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "sohbet",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    CACHES = {
        "default": {"BACKEND": "realtime.cache.ForgivingRedisCache", **_redis_cache},
        "ratelimit": {
            "BACKEND": "realtime.cache.RateCounterRedisCache",
            **_redis_cache,
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000},
        }
    }
    # Both aliases share one local-memory store (same empty LOCATION).
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }

# Django's cached_db, telling the sockets of a deleted session (chatsite/sessions.py).
SESSION_ENGINE = "chatsite.sessions"

# --- Internationalisation -------------------------------------------------------------

LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("tr", _("Turkish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise knows no .webmanifest: browsers want the manifest's own type.
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "chatsite.staticfiles.StaticFilesStorage"
        )
    },
}
# Cloudinary when CLOUDINARY_URL (or the old CLOUDINARY_CLOUD_NAME + _API_KEY +
# _API_SECRET) is set: uploads are stored there as raw files, which only our
# permission-checked view hands out (chatsite/storage.py, docs/operations.md).
_cloudinary = cloudinary_config_from_env(os.environ)
if _cloudinary:
    STORAGES["default"] = {"BACKEND": "chatsite.media.RawCloudinaryStorage"}
    # Read by django-cloudinary-storage, and by the Cloudinary SDK (its own setting).
    CLOUDINARY_STORAGE = cloudinary_storage_settings(_cloudinary)
    CLOUDINARY = _cloudinary
# Seconds before a call to Cloudinary gives up (upload, download, delete).
SOHBET_CLOUDINARY_TIMEOUT = env_int("SOHBET_CLOUDINARY_TIMEOUT", 30)

# --- Security -------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Visitors keep their session (their conversation) this long after its last change;
# a signed-in operator's ends after SOHBET_OPERATOR_IDLE_MINUTES without activity
# (pages, and frames other than pings on the inbox socket; accounts/sessions.py).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 30)
SOHBET_OPERATOR_IDLE_MINUTES = env_int("SOHBET_OPERATOR_IDLE_MINUTES", 8 * 60)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/?$", r"^healthz/?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Taken by the browser only from this host, over HTTPS, for path /: no sibling
    # subdomain can plant one (chatsite/sessions.py adopts cookies from before).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a one-way decision for the domain's owner (browsers ship the
        # list; leaving it takes months), so it is opt-in: DJANGO_HSTS_PRELOAD=1.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# A header set by your proxy with the client's address (for example X-Forwarded-For,
# whose right-most entry is used, or X-Real-IP). Unset: the socket peer's address.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
# Addresses or networks (comma-separated) of the proxies in front of the web process.
# Listed: only they may set forwarding headers (X-Forwarded-*, Forwarded, X-Real-IP,
# CLIENT_IP_HEADER) and Daphne-Root-Path. Empty: every peer is taken to be the proxy
# for forwarding headers, and Daphne-Root-Path is never honoured (realtime/proxies.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from exc
# A header your proxy sets with the visitor's country (ISO 3166 alpha-2), for example
# CF-IPCountry (Cloudflare) or CloudFront-Viewer-Country; believed as the forwarding
# headers are (from TRUSTED_PROXIES only, when listed). Unset: no country.
SOHBET_COUNTRY_HEADER = os.environ.get("SOHBET_COUNTRY_HEADER", "")
RATELIMIT_VIEW = "chat.views.rate_limited"
RATELIMIT_USE_CACHE = "ratelimit"

# --- Sohbet ---------------------------------------------------------------------------

SOHBET_SITE_NAME = os.environ.get("SOHBET_SITE_NAME", "Sohbet")
# A Unicode TrueType font for PDF transcripts (chat.transcript_pdf): Debian's
# fonts-dejavu-core by default; without it transcripts are offered as HTML only.
SOHBET_PDF_FONT = os.environ.get(
    "SOHBET_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
)

# --- The widget (docs/widget.md) -------------------------------------------------
# Sites allowed to embed the widget, comma-separated origins (https://www.example.com,
# https://*.example.com, http://localhost:*); more in the admin. None by default, but in
# development any page on this machine may.
SOHBET_WIDGET_SITES = env_list(
    "SOHBET_WIDGET_SITES", "http://localhost:*,http://127.0.0.1:*" if DEBUG else ""
)
# The secret the host site's server signs its user ids with (identify's user_hash);
# without it only unverified names and emails are taken.
SOHBET_WIDGET_IDENTITY_SECRET = os.environ.get("SOHBET_WIDGET_IDENTITY_SECRET", "")
# Seconds a process keeps its copy of the appearance set in the admin (colour, texts,
# avatars) and of the business hours; a change shows within a second with a shared
# cache (Redis: realtime.localcopy), within this time in local memory.
SOHBET_APPEARANCE_CACHE_SECONDS = env_int("SOHBET_APPEARANCE_CACHE_SECONDS", 60)
# Seconds between two computations of "typically replies in …" in each process.
SOHBET_REPLY_TIME_SECONDS = env_int("SOHBET_REPLY_TIME_SECONDS", 300)
SOHBET_MAX_BODY = env_int("SOHBET_MAX_BODY", 4000)
# The message writer's own PostgreSQL connection prepares its statements once (named,
# per server session): off behind a pooler in transaction mode (PgBouncer).
SOHBET_WRITER_PREPARE = env_bool("DATABASE_WRITER_PREPARE", True)
# Uploads: bytes per file, pixels per image (decompression bombs), files a visitor may
# upload per hour and bytes per day; the same for all visitors of one client address
# (an IPv4 address, an IPv6 /64), which a new session does not renew.
SOHBET_MAX_UPLOAD_BYTES = env_int("SOHBET_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
SOHBET_MAX_IMAGE_PIXELS = env_int("SOHBET_MAX_IMAGE_PIXELS", 40_000_000)
# Memory one decoded image may take (one is decoded at a time per process): larger
# JPEGs are decoded at 1/2, 1/4 or 1/8 of their size, other images refused.
SOHBET_MAX_IMAGE_DECODE_BYTES = env_int(
    "SOHBET_MAX_IMAGE_DECODE_BYTES", 64 * 1024 * 1024
)
SOHBET_UPLOADS_PER_HOUR = env_int("SOHBET_UPLOADS_PER_HOUR", 30)
SOHBET_UPLOAD_BYTES_PER_DAY = env_int("SOHBET_UPLOAD_BYTES_PER_DAY", 100 * 1024 * 1024)
SOHBET_ADDRESS_UPLOADS_PER_HOUR = env_int("SOHBET_ADDRESS_UPLOADS_PER_HOUR", 60)
SOHBET_ADDRESS_UPLOAD_BYTES_PER_DAY = env_int(
    "SOHBET_ADDRESS_UPLOAD_BYTES_PER_DAY", 200 * 1024 * 1024
)
# Files of canned replies an operator may send per hour (each is a copy).
SOHBET_CANNED_FILES_PER_HOUR = env_int("SOHBET_CANNED_FILES_PER_HOUR", 120)
# Bytes of any request body (an upload's file and its form around it); the web
# process answers 413 before storing more (realtime/httpbody.py).
SOHBET_MAX_REQUEST_BYTES = env_int(
    "SOHBET_MAX_REQUEST_BYTES", SOHBET_MAX_UPLOAD_BYTES + 64 * 1024
)
# Files per request: one per upload, the team's avatars (three) on the admin's
# appearance page; a little room for a form's other fields.
DATA_UPLOAD_MAX_NUMBER_FILES = 3
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
# Past this, a request's body and an uploaded file are kept on disk, not in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# Bytes of one WebSocket frame: a client's (beyond it: `too_long`), and the server's
# own, which must not pass the server's --websocket-max-message-size (the library
# refuses to send more): sync, history and thread pages are cut to fit it.
SOHBET_MAX_FRAME_BYTES = env_int("SOHBET_MAX_FRAME_BYTES", 16384)
SOHBET_MAX_SERVER_FRAME_BYTES = env_int("SOHBET_MAX_SERVER_FRAME_BYTES", 65536)
# Seconds the message writer waits for a batch to be stored before it tells the
# senders to retry (`unavailable`; a resend is stored once, by its client_id).
SOHBET_STORE_TIMEOUT = env_int("SOHBET_STORE_TIMEOUT", 8)
# Threads on which the sockets' database work runs (connecting, sync, history, read
# marks, thread actions): one slow query holds up one socket, not the others.
SOHBET_DB_THREADS = env_int("SOHBET_DB_THREADS", 4)
# On SIGTERM the web process closes its WebSockets (1012) and waits at most this many
# seconds for the clients' answers before it exits.
SOHBET_SHUTDOWN_GRACE = env_int("SOHBET_SHUTDOWN_GRACE", 5)
# "count/seconds" per connection: beyond SOHBET_WS_RATE frames get `rate_limited`,
# beyond SOHBET_WS_FLOOD the socket is closed with 4429.
SOHBET_WS_RATE = os.environ.get("SOHBET_WS_RATE", "30/10")
SOHBET_WS_FLOOD = os.environ.get("SOHBET_WS_FLOOD", "60/10")
# "count/seconds" of message.send per sender (a visitor, an operator) over all their
# sockets in every web process, counted in the cache; empty: the SOHBET_WS_RATE numbers.
SOHBET_SEND_RATE = os.environ.get("SOHBET_SEND_RATE", "")
# Open sockets per client address (an IPv4 address, an IPv6 /64) and per browser
# session, in each web process; beyond them a new socket is closed with 4429.
SOHBET_WS_PER_ADDRESS = env_int("SOHBET_WS_PER_ADDRESS", 200)
SOHBET_WS_PER_SESSION = env_int("SOHBET_WS_PER_SESSION", 20)
# Conversations started ("count/seconds"), checked before one is written: per client
# network (an IPv4 /32, an IPv6 /64) and over the whole site (chat.safety). The
# site's is a safety valve, not the spam control: a newsletter's burst of visitors
# (1,000 within seconds, 50 a second for a minute) passes it.
SOHBET_NEW_THREADS_PER_NETWORK = os.environ.get(
    "SOHBET_NEW_THREADS_PER_NETWORK", "20/3600"
)
SOHBET_NEW_THREADS_PER_SITE = os.environ.get("SOHBET_NEW_THREADS_PER_SITE", "3000/60")
# The visitor is asked to rate a conversation when it is closed; a rating can be
# changed for this many minutes.
SOHBET_RATING = env_bool("SOHBET_RATING", True)
SOHBET_RATING_CHANGE_MINUTES = env_int("SOHBET_RATING_CHANGE_MINUTES", 10)
# The HTTP fallback (realtime/fallback.py), for clients whose WebSocket cannot get
# through: bytes and frames in one POST of frames, and seconds a stream may go
# without one (clients ping every 25 s) before it is closed with 4408.
SOHBET_HTTP_POST_BYTES = env_int("SOHBET_HTTP_POST_BYTES", 65536)
SOHBET_HTTP_FRAMES_PER_POST = env_int("SOHBET_HTTP_FRAMES_PER_POST", 20)
SOHBET_HTTP_IDLE = env_int("SOHBET_HTTP_IDLE", 75)
# Presence entries expire when a socket stops pinging (clients ping every 25 s).
SOHBET_PRESENCE_TTL = env_int("SOHBET_PRESENCE_TTL", 70)

# --- Email (docs/operations.md, "Email") ---------------------------------------------

# Where email goes: one URL (chatsite.email). Without it, email is off in production
# (nobody is asked for an address that nothing would write to), and with DJANGO_DEBUG
# (make run) each message is a file under .tmp/email/: the product on one machine.
SOHBET_EMAIL_URL = os.environ.get("SOHBET_EMAIL_URL", "").strip() or (
    "file://.tmp/email" if DEBUG else ""
)
SOHBET_EMAIL_ENABLED = bool(SOHBET_EMAIL_URL)
if SOHBET_EMAIL_ENABLED:
    globals().update(email_settings(SOHBET_EMAIL_URL, base_dir=BASE_DIR))
DEFAULT_FROM_EMAIL = (
    os.environ.get("SOHBET_EMAIL_FROM", "").strip() or "Sohbet <noreply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# An operator's reply the visitor has not read within this many seconds is emailed
# to them (with what else they have not read); 0: never.
SOHBET_EMAIL_UNREAD_DELAY = (
    env_int("SOHBET_EMAIL_UNREAD_DELAY", 600) if SOHBET_EMAIL_ENABLED else 0
)
# When the visitor is asked for their email: "offline" (no operator online),
# "always", or "never"; REQUIRED: before their first message (when asked).
SOHBET_EMAIL_ASK = os.environ.get("SOHBET_EMAIL_ASK", "offline").strip().lower()
if SOHBET_EMAIL_ASK not in ("offline", "always", "never"):
    raise ImproperlyConfigured("SOHBET_EMAIL_ASK must be offline, always or never")
if not SOHBET_EMAIL_ENABLED:
    SOHBET_EMAIL_ASK = "never"
SOHBET_EMAIL_REQUIRED = env_bool("SOHBET_EMAIL_REQUIRED")
# How long the link in an email reopens the conversation, in seconds (7 days).
SOHBET_EMAIL_LINK_MAX_AGE = env_int("SOHBET_EMAIL_LINK_MAX_AGE", 7 * 24 * 3600)
# Transcripts one address may be sent, per hour (whatever the visitor).
SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR = env_int("SOHBET_EMAIL_TRANSCRIPTS_PER_HOUR", 3)
# The web process sends the email outbox itself (a task: chat.email.worker);
# off: another process runs `manage.py sendemail` instead.
SOHBET_EMAIL_WORKER = env_bool("SOHBET_EMAIL_WORKER", True) and SOHBET_EMAIL_ENABLED

# --- Web Push (chat.push; docs/notifications.md) -------------------------------------

# VAPID keys (`manage.py vapidkeys` prints a new pair): base64url, the public key
# uncompressed (65 bytes), the private key raw (32 bytes). Both unset: no push.
SOHBET_VAPID_PUBLIC_KEY = os.environ.get("SOHBET_VAPID_PUBLIC_KEY", "").strip()
SOHBET_VAPID_PRIVATE_KEY = os.environ.get("SOHBET_VAPID_PRIVATE_KEY", "").strip()
# Who the push services may contact about our pushes (mailto: or https: URL).
SOHBET_VAPID_SUBJECT = (
    os.environ.get("SOHBET_VAPID_SUBJECT", "").strip() or "mailto:admin@localhost"
)
if bool(SOHBET_VAPID_PUBLIC_KEY) != bool(SOHBET_VAPID_PRIVATE_KEY):
    raise ImproperlyConfigured(
        "Set both SOHBET_VAPID_PUBLIC_KEY and SOHBET_VAPID_PRIVATE_KEY, or neither"
    )
SOHBET_PUSH_ENABLED = bool(SOHBET_VAPID_PRIVATE_KEY)
# Push services a subscription may name (https only): the browsers' own. The worker
# posts to no other host, whatever a browser sends.
SOHBET_PUSH_SERVICE_HOSTS = env_list(
    "SOHBET_PUSH_SERVICE_HOSTS",
    "fcm.googleapis.com,updates.push.services.mozilla.com,*.push.apple.com,"
    "*.notify.windows.com",
)
# Seconds an operator's inbox has to show a visitor's message (read: no push).
SOHBET_PUSH_DELAY = env_int("SOHBET_PUSH_DELAY", 3)
# The web process sends the push outbox itself (a task: chat.push.worker).
SOHBET_PUSH_WORKER = env_bool("SOHBET_PUSH_WORKER", True) and SOHBET_PUSH_ENABLED

# --- Health and housekeeping ----------------------------------------------------------

# Shown by /health/: a release name, else the commit Railway deployed, else "dev".
SOHBET_VERSION = (
    os.environ.get("SOHBET_VERSION", "").strip()
    or os.environ.get("RAILWAY_GIT_COMMIT_SHA", "").strip()[:12]
    or "dev"
)
# /health/ computes its checks at most once per this many seconds per process.
SOHBET_HEALTH_CACHE_SECONDS = env_int("SOHBET_HEALTH_CACHE_SECONDS", 5)
# Requests per client IP (django-ratelimit rate) to /health/.
SOHBET_HEALTH_RATE = os.environ.get("SOHBET_HEALTH_RATE", "60/m")
# Seconds a check that talks to another service (the channel layer) may take.
SOHBET_HEALTH_TIMEOUT = env_int("SOHBET_HEALTH_TIMEOUT", 2)
# The bridge's check fails when its last heartbeat is older than this (seconds).
SOHBET_HEALTH_TELEGRAM_MAX_AGE = env_int("SOHBET_HEALTH_TELEGRAM_MAX_AGE", 120)
# Free space on the media filesystem and available memory below which those fail.
SOHBET_HEALTH_MIN_FREE_DISK_MB = env_int("SOHBET_HEALTH_MIN_FREE_DISK_MB", 100)
SOHBET_HEALTH_MIN_FREE_MEMORY_MB = env_int("SOHBET_HEALTH_MIN_FREE_MEMORY_MB", 50)
# Checks reported but not failing the status (comma-separated names, e.g. "memory").
SOHBET_HEALTH_OPTIONAL_CHECKS = env_list("SOHBET_HEALTH_OPTIONAL_CHECKS")
# `manage.py cleanup`: visitors who never wrote and were last seen this many days ago
# are removed; with RETENTION_DAYS set, so are closed conversations whose last
# message is older than that (0: kept forever).
SOHBET_STALE_VISITOR_DAYS = env_int("SOHBET_STALE_VISITOR_DAYS", 30)
RETENTION_DAYS = env_int("RETENTION_DAYS", 0)

# --- Logging --------------------------------------------------------------------------

# "json": one JSON object per line (the default when DJANGO_DEBUG is off), "text":
# readable lines (the default in development). Both carry the request or connection id
# and redact token-like strings; see realtime/logs.py.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or (
    "text" if DEBUG else "json"
)
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "realtime.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "realtime.logs.JsonFormatter"},
        "text": {"()": "realtime.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        "httpx": {"level": "WARNING"},
    },
}

# --- Integrations ---------------------------------------------------------------------

TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_CHAT_ID = os.environ.get("TELEGRAM_CHAT_ID", "")
# Another Bot API server (a self-hosted telegram-bot-api lifts the 20 MB download
# limit; the tests use a fake one on 127.0.0.1). Default: Telegram's own.
TELEGRAM_API_URL = os.environ.get(
    "TELEGRAM_API_URL", "https://api.telegram.org"
).rstrip("/")
TELEGRAM_ENABLED = bool(TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID)
# How long a bridge's lease lasts without renewal: a second bridge takes over this
# long after the first one died.
TELEGRAM_LEASE_SECONDS = env_int("TELEGRAM_LEASE_SECONDS", 30)
# Bots may download files up to 20 MB from Telegram's own Bot API server; a
# self-hosted telegram-bot-api server (TELEGRAM_API_URL) lifts that.
TELEGRAM_DOWNLOAD_LIMIT_BYTES = env_int(
    "TELEGRAM_DOWNLOAD_LIMIT_BYTES", 20 * 1024 * 1024
)
# Telegram's limits for a bot, "count/seconds": messages in one chat, in one group,
# in all chats. The bridge paces its sends to stay under them (docs/telegram.md).
TELEGRAM_RATE_PER_CHAT = os.environ.get("TELEGRAM_RATE_PER_CHAT", "3/3")
TELEGRAM_RATE_PER_GROUP = os.environ.get("TELEGRAM_RATE_PER_GROUP", "20/60")
TELEGRAM_RATE_OVERALL = os.environ.get("TELEGRAM_RATE_OVERALL", "30/1")
# Seconds a visitor stays away before the bridge notes in the topic that they left
# (a visitor moving between pages leaves and comes back at once).
TELEGRAM_LEAVE_NOTE_SECONDS = env_int("TELEGRAM_LEAVE_NOTE_SECONDS", 60)
# The site's public address, for links in messages the bot posts (e.g. to the admin);
# on Railway its public domain is used when this is not set.
SOHBET_PUBLIC_URL = (
    os.environ.get("SOHBET_PUBLIC_URL", "").strip()
    or (
        f"https://{os.environ['RAILWAY_PUBLIC_DOMAIN'].strip()}"
        if os.environ.get("RAILWAY_PUBLIC_DOMAIN", "").strip()
        else ""
    )
).rstrip("/")
# Operator second factor (a code sent by the bot) and account linking, in seconds.
SOHBET_LOGIN_CODE_TTL = env_int("SOHBET_LOGIN_CODE_TTL", 300)
SOHBET_LOGIN_CODE_ATTEMPTS = env_int("SOHBET_LOGIN_CODE_ATTEMPTS", 5)
SOHBET_LOGIN_CODE_RESEND_SECONDS = env_int("SOHBET_LOGIN_CODE_RESEND_SECONDS", 60)
# Per account, whatever the browsers and addresses: codes sent, and wrong codes
# entered, per hour and per day. Beyond them codes pause (recovery codes still work);
# the operator is told in Telegram once an hour's wrong codes reach
# SOHBET_LOGIN_CODE_ATTEMPTS.
SOHBET_LOGIN_CODES_PER_HOUR = env_int("SOHBET_LOGIN_CODES_PER_HOUR", 10)
SOHBET_LOGIN_CODES_PER_DAY = env_int("SOHBET_LOGIN_CODES_PER_DAY", 20)
SOHBET_LOGIN_CODE_FAILURES_PER_HOUR = env_int("SOHBET_LOGIN_CODE_FAILURES_PER_HOUR", 10)
SOHBET_LOGIN_CODE_FAILURES_PER_DAY = env_int("SOHBET_LOGIN_CODE_FAILURES_PER_DAY", 20)
SOHBET_LINK_TOKEN_TTL = env_int("SOHBET_LINK_TOKEN_TTL", 600)
# External deliveries queued with every message (chat.OutboxEntry.channel values).
SOHBET_OUTBOX_CHANNELS = ["telegram"] if TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID else []
# "Continue in Telegram": visitors may link their own Telegram to the conversation
# (telegram_bridge.visitor_*); operators' replies are then queued for it too (an
# outbox row per operator message, sent only while the visitor's page is closed).
TELEGRAM_VISITOR_CHATS = TELEGRAM_ENABLED and env_bool("TELEGRAM_VISITOR_CHATS", True)
TELEGRAM_VISITOR_CHANNEL = "telegram_visitor"
SOHBET_REPLY_CHANNELS = [TELEGRAM_VISITOR_CHANNEL] if TELEGRAM_VISITOR_CHATS else []
