"""Writes of the chat's appearance: its one row of settings and the team's avatars."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.appearance import APPEARANCE
from chat.models import APPEARANCE_ID, MAX_TEAM_AVATARS, Appearance, TeamAvatar

logger = logging.getLogger(__name__)


@transaction.atomic
def update_appearance(
    *,
    values: Mapping[str, Any],
    new_avatars: Sequence[bytes] = (),
    remove_avatar_ids: Sequence[int] = (),
) -> Appearance:
    """Set the appearance's fields (``values``, already valid), remove the avatars
    ``remove_avatar_ids`` and add ``new_avatars`` (cleaned by chat.avatars); the
    processes' copies are renewed after commit (``appearance.APPEARANCE``).

    Raises ValidationError (and changes nothing) when more than MAX_TEAM_AVATARS
    avatars would remain.
    """
    row = Appearance.objects.select_for_update().filter(pk=APPEARANCE_ID).first()
    row = row or Appearance(pk=APPEARANCE_ID)
    removed = list(TeamAvatar.objects.filter(pk__in=remove_avatar_ids))
    kept = TeamAvatar.objects.exclude(pk__in=[a.pk for a in removed]).count()
    if kept + len(new_avatars) > MAX_TEAM_AVATARS:
        raise ValidationError(too_many_avatars_message(), code="too_many")
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = timezone.now()
    row.full_clean()
    row.save()
    files = [avatar.file.name for avatar in removed]
    TeamAvatar.objects.filter(pk__in=[a.pk for a in removed]).delete()
    for content in new_avatars:
        avatar = TeamAvatar()
        # Stored now (storage is not transactional): a rollback leaves an orphan
        # file, never a row without its file.
        avatar.file.save("avatar.webp", ContentFile(content), save=False)
        avatar.save()
    transaction.on_commit(lambda: _after_change(files))
    return row


def too_many_avatars_message() -> str:
    return _(
        "A team shows at most %(count)d avatars: remove one before adding another."
    ) % {"count": MAX_TEAM_AVATARS}


def _after_change(removed_files: list[str]) -> None:
    APPEARANCE.changed()
    for name in removed_files:
        try:
            default_storage.delete(name)
        except Exception:  # an orphan file, not a failed change
            logger.warning("could not delete the avatar file %s", name, exc_info=True)
