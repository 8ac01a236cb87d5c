"""What the service workers are told of this release: the name of their caches
(the static files' manifest hash, else SOHBET_VERSION, else this process's start)
and what they keep for the offline page. A new release is a new worker script,
which the browser installs; it deletes the caches of older releases."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.templatetags.static import static
from django.urls import reverse

SCOPES = {"inbox": "/admin/inbox/", "visitor": "/"}
_STARTED = str(int(time.time()))


@cache
def version() -> str:
    """This release's name (the same in every process of a release)."""
    manifest_hash = getattr(staticfiles_storage, "manifest_hash", "")
    if manifest_hash:
        return str(manifest_hash)
    if settings.SOHBET_VERSION != "dev":
        return settings.SOHBET_VERSION
    return f"dev-{_STARTED}"


def is_hashed() -> bool:
    """Static names change with their content (ManifestStaticFilesStorage): a
    cached copy may be used for good."""
    return bool(getattr(staticfiles_storage, "manifest_hash", ""))


def worker_config(scope: str) -> dict[str, Any]:
    """The ``CONFIG`` of templates/chat/service-worker.js for ``scope``."""
    offline = reverse("push-offline")
    return {
        "scope": SCOPES[scope],
        "cache": f"sohbet-{scope}-{version()}",
        "prefix": f"sohbet-{scope}-",
        "offline": offline,
        "precache": [
            offline,
            static("chat/offline.css"),
            static("chat/offline.js"),
            static("icons/icon.svg"),
        ],
        "static": settings.STATIC_URL
        if settings.STATIC_URL.startswith("/")
        else "/" + settings.STATIC_URL,
        "hashed": is_hashed(),
        "icon": static("icons/icon-192.png"),
        # The chat page's worker has scope "/": the admin is not its business.
        "ignore": ["/admin/"] if scope == "visitor" else [],
    }


def push_config(*, operator: bool) -> dict[str, Any]:
    """What a page needs to offer push (merged into its json_script config);
    empty when push is off."""
    if not settings.SOHBET_PUSH_ENABLED:
        return {}
    config: dict[str, Any] = {
        "publicKey": settings.SOHBET_VAPID_PUBLIC_KEY,
        "subscribeUrl": reverse(
            "push-operator-subscription" if operator else "push-visitor-subscription"
        ),
    }
    if operator:
        config["preferencesUrl"] = reverse("push-preferences")
    return config
