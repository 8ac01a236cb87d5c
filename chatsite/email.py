"""Django's email settings from one URL (``SOHBET_EMAIL_URL``).

``smtp://user:password@host:587?tls=1`` (STARTTLS), ``smtps://user:password@host:465``
(TLS from the start), ``smtp://host:25`` (no TLS: a relay on the same network),
``console://`` (printed on the server's output), ``file:///path`` or
``file://relative/path`` (one file per message, under the project for a relative
path). User and password are percent-encoded; ``timeout`` (seconds) is allowed on
SMTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
TRUE = {"1", "true", "yes", "on"}


def email_settings(url: str, *, base_dir: Path) -> dict[str, Any]:
    """The Django settings (EMAIL_*) that ``url`` stands for; ImproperlyConfigured
    with the reason when it is not one of the forms above."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file":
        path = Path(unquote(parts.netloc + parts.path))
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(path if path.is_absolute() else base_dir / path),
        }
    if scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(
            "SOHBET_EMAIL_URL must start with smtp://, smtps://, console:// or "
            f"file://, got {parts.scheme or 'nothing'!r}"
        )
    if not parts.hostname:
        raise ImproperlyConfigured("SOHBET_EMAIL_URL has no host: smtp://host:587")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"tls", "timeout"}
    if unknown:
        raise ImproperlyConfigured(
            f"SOHBET_EMAIL_URL: unknown option(s) {', '.join(sorted(unknown))} "
            "(tls, timeout)"
        )
    try:
        port = parts.port or (465 if scheme == "smtps" else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"SOHBET_EMAIL_URL: {exc}") from None
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": scheme == "smtp" and query.get("tls", "").lower() in TRUE,
        "EMAIL_TIMEOUT": timeout,
    }
