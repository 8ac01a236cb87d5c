"""Canned replies' files: copied into a conversation when an operator sends one.

The copy is an ordinary attachment of the thread (not sent yet), so the message
that carries it is an ordinary ``message.send``; an unsent copy is removed with the
other unsent uploads (housekeeping). The stored reply keeps its own file.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.exceptions import ChatError, ErrorCode
from chat.models import Attachment, CannedReply
from chat.services.housekeeping import store_attachment
from chat.uploads import CleanFile

# What the copies are counted by (Attachment.uploader_key): the per-operator quota.
CANNED_UPLOADER_KEY = "canned"


def copy_canned_file(*, reply: CannedReply, thread_id: int, user_id: int) -> Attachment:
    """A new attachment of ``thread_id`` holding ``reply``'s file, uploaded by the
    operator. Raises ChatError: invalid (the reply has no file), rate_limited (past
    SOHBET_CANNED_FILES_PER_HOUR copies in the last hour), unavailable (the stored
    file cannot be read)."""
    if not reply.file:
        raise ChatError(ErrorCode.INVALID, _("This saved reply has no file."))
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Attachment.objects.filter(
        operator_id=user_id, uploader_key=CANNED_UPLOADER_KEY, created_at__gte=since
    ).count()
    if recent >= settings.SOHBET_CANNED_FILES_PER_HOUR:
        raise ChatError(
            ErrorCode.RATE_LIMITED,
            _("Too many files of saved replies this hour. Please wait a little."),
        )
    try:
        with reply.file.open("rb") as handle:
            content = handle.read(settings.SOHBET_MAX_UPLOAD_BYTES + 1)
    except (OSError, ValueError):
        raise ChatError(
            ErrorCode.UNAVAILABLE, _("The saved reply's file could not be read.")
        ) from None
    if len(content) > settings.SOHBET_MAX_UPLOAD_BYTES:
        raise ChatError(ErrorCode.TOO_LONG, _("The saved reply's file is too large."))
    extension = reply.file.name.rsplit(".", 1)[-1] if "." in reply.file.name else "bin"
    cleaned = CleanFile(
        content=content,
        kind=reply.file_kind,
        content_type=reply.file_type,
        extension=extension,
        name=reply.file_name,
        width=reply.file_width,
        height=reply.file_height,
    )
    return store_attachment(
        thread_id=thread_id,
        uploaded_by="operator",
        operator_id=user_id,
        cleaned=cleaned,
        uploader_key=CANNED_UPLOADER_KEY,
    )


def save_canned_reply(
    *, reply: CannedReply, file: CleanFile | None = None, remove_file: bool = False
) -> CannedReply:
    """Save a reply edited in the admin, with a new checked file (``file``) or
    without its file (``remove_file``); a replaced file is deleted once saved."""
    old_name = reply.file.name if reply.file else ""
    if file is not None:
        reply.file.save(
            f"reply.{file.extension}", ContentFile(file.content), save=False
        )
        reply.file_name, reply.file_kind = file.name, file.kind
        reply.file_type, reply.file_size = file.content_type, len(file.content)
        reply.file_width, reply.file_height = file.width, file.height
    elif remove_file:
        reply.file = ""
        reply.file_name = reply.file_kind = reply.file_type = ""
        reply.file_size, reply.file_width, reply.file_height = 0, None, None
    reply.shortcut = reply.shortcut.lstrip("/").lower()
    reply.updated_at = timezone.now()
    with transaction.atomic():
        reply.save()
        if old_name and old_name != (reply.file.name if reply.file else ""):
            transaction.on_commit(lambda: default_storage.delete(old_name))
    return reply


def delete_canned_replies(*, replies: list[CannedReply]) -> None:
    """Delete replies and, once that commits, their files."""
    names = [reply.file.name for reply in replies if reply.file]
    with transaction.atomic():
        CannedReply.objects.filter(pk__in=[reply.pk for reply in replies]).delete()
        transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
