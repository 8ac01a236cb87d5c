"""Attachments on Cloudinary: django-cloudinary-storage's raw storage, with timeouts.

The package makes its network calls without a timeout (``requests`` and the Cloudinary
SDK default to none), so a Cloudinary that stopped answering held the web process's
worker thread, and the visitor's upload, for as long as the connection lived. Here
every call gives up after ``SOHBET_CLOUDINARY_TIMEOUT`` seconds: an upload then
answers 503 "try again" (chat/upload_views.py), a download 404 with a warning, and the
bridge retries its delivery later. Imported only when Cloudinary is configured
(``STORAGES`` names it; chatsite/storage.py turns the environment into settings).
"""

from __future__ import annotations

import os
from typing import Any

import cloudinary.uploader
import requests
from cloudinary_storage.storage import RawMediaCloudinaryStorage
from django.conf import settings
from django.core.files.base import ContentFile


class RawCloudinaryStorage(RawMediaCloudinaryStorage):
    """Raw files (kept byte for byte), each network call bounded in time."""

    @property
    def timeout(self) -> float:
        return float(settings.SOHBET_CLOUDINARY_TIMEOUT)

    def _upload(self, name: str, content: Any) -> Any:
        options: dict[str, Any] = {
            "use_filename": True,
            "resource_type": self._get_resource_type(name),
            "tags": self.TAG,
            "timeout": self.timeout,
        }
        if os.path.dirname(name):
            options["folder"] = os.path.dirname(name)
        return cloudinary.uploader.upload(content, **options)

    def _open(self, name: str, mode: str = "rb") -> ContentFile[bytes]:
        response = requests.get(self._get_url(name), timeout=self.timeout)
        if response.status_code == 404:
            raise OSError(f"{name} is not on Cloudinary")
        response.raise_for_status()
        file = ContentFile(response.content, name=name)
        file.mode = mode
        return file

    def delete(self, name: str) -> bool:
        response = cloudinary.uploader.destroy(
            name,
            invalidate=True,
            resource_type=self._get_resource_type(name),
            timeout=self.timeout,
        )
        return bool(response["result"] == "ok")

    def exists(self, name: str) -> bool:
        response = requests.head(self._get_url(name), timeout=self.timeout)
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def size(self, name: str) -> int | None:
        response = requests.head(self._get_url(name), timeout=self.timeout)
        if response.status_code != 200:
            return None
        return int(response.headers["content-length"])
