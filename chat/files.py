"""Files in the media folder that no attachment refers to: what an upload that died
half-way (a full disk, a killed process) or an erasure that could not delete left
behind. ``manage.py cleanup`` removes them once they are old enough that no upload
can still be on its way to recording them.

Only the local media folder is walked: Cloudinary stores an upload whole or not at
all, and listing it costs rate-limited Admin API calls.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils import timezone

from chat.models import Attachment

logger = logging.getLogger(__name__)

FOLDER = "attachments"  # chat.models.attachment_path
LOOKUP_BATCH = 1000  # file names per query


def list_orphan_files(*, older_than: dt.timedelta) -> list[str] | None:
    """Storage names of files under the attachments folder that no attachment row
    refers to, last written more than ``older_than`` ago; None when the storage is
    not the local media folder (nothing is looked at)."""
    if not isinstance(default_storage, FileSystemStorage):
        return None
    root = Path(settings.MEDIA_ROOT)
    cutoff = (timezone.now() - older_than).timestamp()
    found: list[str] = []
    for directory, _dirs, files in os.walk(root / FOLDER):
        for file in files:
            path = Path(directory, file)
            try:
                if path.stat().st_mtime < cutoff:
                    found.append(path.relative_to(root).as_posix())
            except FileNotFoundError:  # removed meanwhile
                continue
    known: set[str] = set()
    for start in range(0, len(found), LOOKUP_BATCH):
        batch = found[start : start + LOOKUP_BATCH]
        known.update(
            Attachment.objects.filter(file__in=batch).values_list("file", flat=True)
        )
    return [name for name in found if name not in known]


def delete_orphan_files(*, older_than: dt.timedelta, dry_run: bool = False) -> int:
    """Remove the files ``list_orphan_files`` finds; returns how many (with
    ``dry_run``: how many would go, removing none)."""
    names = list_orphan_files(older_than=older_than) or []
    if dry_run:
        return len(names)
    for name in names:
        default_storage.delete(name)
    if names:
        logger.info("removed %d stored file(s) no attachment refers to", len(names))
    return len(names)
