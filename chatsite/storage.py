"""Where uploaded files are kept: the media folder, or Cloudinary when configured.

The settings module imports this, so it imports neither Django's settings nor the
Cloudinary SDK: it turns the environment into settings and nothing more.

On Cloudinary, attachments are "raw" resources (django-cloudinary-storage's
``RawMediaCloudinaryStorage``, with timeouts: chatsite/media.py): kept byte for byte,
never transformed. Clients never see a Cloudinary URL; they fetch files through the
permission-checked ``/attachments/<id>/<name>`` view, which reads them from storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ImproperlyConfigured

# Folder of every stored file's public id, so that ours stand apart in a Cloudinary
# account shared with other things. Stored names include it: never change it on a
# site that has files.
CLOUDINARY_FOLDER = "sohbet"
OLD_CLOUDINARY_VARIABLES = (
    "CLOUDINARY_CLOUD_NAME",
    "CLOUDINARY_API_KEY",
    "CLOUDINARY_API_SECRET",
)
URL_SHAPE = "cloudinary://<api_key>:<api_secret>@<cloud_name>"


def cloudinary_config_from_env(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The Cloudinary SDK configuration the environment describes, or None.

    ``CLOUDINARY_URL`` (cloudinary://<api_key>:<api_secret>@<cloud_name>, with SDK
    options such as ``upload_prefix`` in its query string), or the old system's
    CLOUDINARY_CLOUD_NAME + CLOUDINARY_API_KEY + CLOUDINARY_API_SECRET (SDK options as
    more ``CLOUDINARY_<OPTION>`` variables, e.g. CLOUDINARY_UPLOAD_PREFIX). This is
    how the SDK reads the environment itself, so both agree: the three variables win
    when CLOUDINARY_CLOUD_NAME is set. ``"true"`` and ``"false"`` become booleans.

    Raises ImproperlyConfigured for a malformed URL, an incomplete set of the three
    variables, or both forms naming different accounts. Messages never quote secrets.
    """
    url = environ.get("CLOUDINARY_URL", "").strip()
    from_url = _config_from_url(url) if url else None
    present = [
        name for name in OLD_CLOUDINARY_VARIABLES if environ.get(name, "").strip()
    ]
    if not present:
        return from_url
    if len(present) < len(OLD_CLOUDINARY_VARIABLES):
        missing = sorted(set(OLD_CLOUDINARY_VARIABLES) - set(present))
        raise ImproperlyConfigured(
            f"Cloudinary: {', '.join(present)} set without {', '.join(missing)}. Set "
            f"all three, or CLOUDINARY_URL alone ({URL_SHAPE})."
        )
    config = {
        name.removeprefix("CLOUDINARY_").lower(): _sdk_value(value.strip())
        for name, value in environ.items()
        if name.startswith("CLOUDINARY_") and name != "CLOUDINARY_URL" and value.strip()
    }
    if from_url and _account(from_url) != _account(config):
        raise ImproperlyConfigured(
            "Cloudinary: CLOUDINARY_URL and CLOUDINARY_CLOUD_NAME/_API_KEY/_API_SECRET "
            "name different accounts. Set only CLOUDINARY_URL."
        )
    return config


def cloudinary_storage_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """django-cloudinary-storage's ``CLOUDINARY_STORAGE`` setting for this account.

    The package sets the SDK's credentials and ``secure`` flag from it (overriding
    what the SDK read from the environment), so ``secure`` must follow the config.
    """
    return {
        "CLOUD_NAME": config["cloud_name"],
        "API_KEY": config["api_key"],
        "API_SECRET": config["api_secret"],
        "SECURE": config.get("secure", True),
        "PREFIX": CLOUDINARY_FOLDER,
    }


def _config_from_url(url: str) -> dict[str, Any]:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        parts = urlsplit("")
    cloud_name, api_key, api_secret = parts.hostname, parts.username, parts.password
    if parts.scheme != "cloudinary" or not (cloud_name and api_key and api_secret):
        raise ImproperlyConfigured(f"CLOUDINARY_URL must look like {URL_SHAPE}.")
    config: dict[str, Any] = {
        "cloud_name": cloud_name,
        "api_key": api_key,
        "api_secret": api_secret,
    }
    if parts.path:
        # As the SDK reads it: a path names a private CDN's distribution.
        config.update(private_cdn=True, secure_distribution=parts.path[1:])
    config.update(
        (key, _sdk_value(value)) for key, value in parse_qsl(parts.query) if value
    )
    return config


def _sdk_value(value: str) -> str | bool:
    return value == "true" if value in ("true", "false") else value


def _account(config: Mapping[str, Any]) -> tuple[object, ...]:
    return config.get("cloud_name"), config.get("api_key"), config.get("api_secret")
