"""What an uploaded file really is, decided by its content, and a safe copy of it.

Types are recognised by their first bytes, never by the file name or the content
type the client claims. Images are decoded and re-encoded with Pillow, which drops
EXIF/GPS metadata and anything appended to the file (a GIF/HTML polyglot comes out as
a plain GIF) and refuses decompression bombs; decoding memory is bounded (a size
budget, JPEGs decoded smaller to fit it, one image at a time). Audio and PDF are
kept as they are and served with their detected type, ``nosniff`` and (for PDF) as a
download. SVG, HTML and everything else are refused.
"""

from __future__ import annotations

import io
import threading
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, UnidentifiedImageError


class UploadRefused(Exception):
    """A file we do not accept; ``code`` is for clients, the message for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Detected:
    kind: str  # "image" | "audio" | "file"
    content_type: str
    extension: str
    pillow_format: str | None = None


@dataclass(frozen=True, slots=True)
class CleanFile:
    content: bytes
    kind: str
    content_type: str
    extension: str
    name: str
    width: int | None = None
    height: int | None = None


IMAGE_TYPES = {
    "JPEG": Detected("image", "image/jpeg", "jpg", "JPEG"),
    "PNG": Detected("image", "image/png", "png", "PNG"),
    "GIF": Detected("image", "image/gif", "gif", "GIF"),
    "WEBP": Detected("image", "image/webp", "webp", "WEBP"),
}
ACCEPTED_CONTENT_TYPES = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/ogg",
    "audio/webm",
    "video/webm",
    "audio/mp4",
    "audio/mpeg",
    "audio/wav",
    "application/pdf",
]


def sniff(head: bytes) -> Detected | None:
    """The type of a file from its first bytes (at least 64 of them), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE_TYPES["JPEG"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE_TYPES["PNG"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return IMAGE_TYPES["GIF"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE_TYPES["WEBP"]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Detected("audio", "audio/wav", "wav")
    if head.startswith(b"OggS"):
        return Detected("audio", "audio/ogg", "ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # Matroska/WebM: browsers' MediaRecorder writes audio-only WebM.
        return Detected("audio", "audio/webm", "webm")
    if head[4:8] == b"ftyp":
        return Detected("audio", "audio/mp4", "m4a")
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    ):
        return Detected("audio", "audio/mpeg", "mp3")
    if head.startswith(b"%PDF-"):
        return Detected("file", "application/pdf", "pdf")
    return None


def safe_name(name: str, *, extension: str) -> str:
    """The original name as harmless text: no paths, control or bidi characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    name = " ".join(name.split()).strip(". ")[:150]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'file'}.{extension}"


def clean_upload(data: bytes, *, name: str) -> CleanFile:
    """Check an upload by its content and return what we will store.

    Raises UploadRefused (too_large, unsupported_type, invalid).
    """
    if len(data) > settings.SOHBET_MAX_UPLOAD_BYTES:
        raise UploadRefused(
            "too_large",
            _("This file is too large (the limit is %(mb)s MB).")
            % {"mb": settings.SOHBET_MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
    if not data:
        raise UploadRefused("invalid", _("The file is empty."))
    detected = sniff(data[:64])
    if detected is None:
        raise UploadRefused(
            "unsupported_type",
            _(
                "This type of file is not accepted. Send an image (JPEG, PNG, GIF, "
                "WebP), an audio file or a PDF."
            ),
        )
    if detected.pillow_format:
        return _clean_image(data, detected, name=name)
    return CleanFile(
        content=data,
        kind=detected.kind,
        content_type=detected.content_type,
        extension=detected.extension,
        name=safe_name(name, extension=detected.extension),
    )


def _clean_image(data: bytes, detected: Detected, *, name: str) -> CleanFile:
    refused = UploadRefused("invalid", _("This image could not be read."))
    too_big = UploadRefused(
        "too_large", _("This image has too many pixels to be shown safely.")
    )
    limit = settings.SOHBET_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings(), _decoding:
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            formats = [detected.pillow_format or "PNG"]
            with Image.open(io.BytesIO(data), formats=formats) as image:
                # Decided from the header, before decoding.
                width, height = image.size
                if width * height > limit:
                    raise too_big
                frames = getattr(image, "n_frames", 1)
                if width * height * frames > limit * 4:
                    raise too_big
                if not _fits_decode_budget(image, frames):
                    raise too_big
                width, height = image.size
                image.load()
                output = io.BytesIO()
                _save_clean(image, output, detected)
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise refused from None
    return CleanFile(
        content=output.getvalue(),
        kind="image",
        content_type=detected.content_type,
        extension=detected.extension,
        name=safe_name(name, extension=detected.extension),
        width=width,
        height=height,
    )


# One image decoded at a time in a process: decoding memory is bounded by one
# image's budget (SOHBET_MAX_IMAGE_DECODE_BYTES), whatever the number of uploads.
_decoding = threading.Lock()


def _fits_decode_budget(image: ImageFile.ImageFile, frames: int) -> bool:
    """Whether decoding ``image`` stays within SOHBET_MAX_IMAGE_DECODE_BYTES; a
    JPEG over it is set to decode at 1/2, 1/4 or 1/8 of its size (``draft``)
    instead, when that fits."""
    budget = settings.SOHBET_MAX_IMAGE_DECODE_BYTES
    if _decoded_bytes(image, frames) <= budget:
        return True
    if image.format != "JPEG":
        return False
    width, height = image.size
    for scale in (2, 4, 8):
        wanted = (-(-width // scale), -(-height // scale))
        if wanted[0] * wanted[1] * 4 <= budget:
            image.draft(None, wanted)
            return _decoded_bytes(image, frames) <= budget
    return False


def _decoded_bytes(image: Image.Image, frames: int) -> int:
    """Bytes Pillow holds for ``image`` decoded: a byte per pixel for one-band
    modes, four for the others (RGB is stored as four), twice over for an animation
    (the frame and the one it is drawn on)."""
    per_pixel = 1 if image.mode in ("1", "L", "P") and frames == 1 else 4
    return image.width * image.height * per_pixel * (2 if frames > 1 else 1)


def _save_clean(image: Image.Image, output: io.BytesIO, detected: Detected) -> None:
    """Re-encode without metadata: only pixels (and frames) survive."""
    fmt = detected.pillow_format
    if fmt == "JPEG":
        # convert() copies the image even to its own mode: only when needed.
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(output, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(output, "PNG", optimize=True)
    elif fmt == "GIF":
        animated = getattr(image, "is_animated", False)
        image.save(output, "GIF", save_all=animated)
    else:
        animated = getattr(image, "is_animated", False)
        image.save(output, "WEBP", quality=88, save_all=animated)


def client_config() -> dict[str, object]:
    """What the pages need to upload (merged into their json_script config)."""
    from django.urls import reverse

    return {
        "uploadUrl": reverse("upload"),
        "csrfCookieName": settings.CSRF_COOKIE_NAME,
        "maxUpload": settings.SOHBET_MAX_UPLOAD_BYTES,
        "uploadTypes": ACCEPTED_CONTENT_TYPES,
    }
