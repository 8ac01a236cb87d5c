"""A team avatar from an uploaded image: checked by content as every upload is
(chat.uploads), then cropped square and made small, so that every visitor's page
loads a few kilobytes whatever was uploaded."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from chat.uploads import UploadRefused, clean_upload

AVATAR_SIZE = 128  # pixels a side: shown at 32 to 40 CSS pixels, sharp at 3x


def clean_avatar(data: bytes, *, name: str) -> bytes:
    """The avatar to store (WebP, AVATAR_SIZE square) from an uploaded file.

    Raises UploadRefused: what chat.uploads.clean_upload refuses, and any file that
    is not an image (``unsupported_type``).
    """
    cleaned = clean_upload(data, name=name)
    if cleaned.kind != "image":
        raise UploadRefused(
            "unsupported_type",
            _("“%(name)s” is not an image. Choose a JPEG, PNG, GIF or WebP file.")
            % {"name": cleaned.name},
        )
    # Decoded again, within the limits clean_upload has just checked.
    with Image.open(io.BytesIO(cleaned.content)) as image:
        image.draft("RGB", (AVATAR_SIZE * 2, AVATAR_SIZE * 2))  # JPEG: decode smaller
        frame = image.convert("RGBA")  # the first frame of an animation
    square = ImageOps.fit(frame, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    square.save(output, "WEBP", quality=88)
    return output.getvalue()
