"""Uploads are judged by their content (chat.uploads)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from chat.uploads import UploadRefused, clean_upload, safe_name


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb's shape)."""
    data = bytearray(image_bytes("PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def refused(data: bytes, name: str = "x.png") -> str:
    with pytest.raises(UploadRefused) as info:
        clean_upload(data, name=name)
    assert info.value.detail
    return info.value.code


def test_svg_with_script_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert refused(svg, "logo.svg") == "unsupported_type"


def test_html_renamed_png_is_refused():
    assert refused(b"<!doctype html><script>alert(1)</script>", "cat.png") == (
        "unsupported_type"
    )


def test_gif_html_polyglot_comes_out_as_a_plain_gif():
    polyglot = image_bytes("GIF") + b"<html><script>alert(1)</script></html>"
    cleaned = clean_upload(polyglot, name="funny.gif")
    assert cleaned.content_type == "image/gif"
    assert b"<script>" not in cleaned.content
    assert Image.open(io.BytesIO(cleaned.content)).format == "GIF"


def test_a_50000_by_50000_png_is_refused_before_decoding():
    assert refused(png_claiming(50_000, 50_000)) == "too_large"


def test_an_oversized_file_is_refused(settings):
    settings.SOHBET_MAX_UPLOAD_BYTES = 1000
    assert refused(image_bytes("PNG", (400, 400)) + b"\0" * 2000) == "too_large"


def test_exif_and_gps_are_stripped_from_jpeg():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (41.0, 0.0, 0.0)}  # GPS
    original = image_bytes("JPEG", exif=exif.tobytes())
    assert b"SpyCam" in original
    cleaned = clean_upload(original, name="photo.jpg")
    assert b"SpyCam" not in cleaned.content
    assert not Image.open(io.BytesIO(cleaned.content)).getexif()
    assert (cleaned.width, cleaned.height) == (8, 6)


def test_audio_and_pdf_are_recognised_by_content_not_name():
    ogg = b"OggS\x00\x02" + b"\x00" * 100
    assert clean_upload(ogg, name="note.exe").content_type == "audio/ogg"
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 100
    assert clean_upload(webm, name="voice-note.webm").kind == "audio"
    pdf = b"%PDF-1.7\n" + b"\x00" * 100
    cleaned = clean_upload(pdf, name="invoice.png")
    assert (cleaned.kind, cleaned.content_type, cleaned.name) == (
        "file",
        "application/pdf",
        "invoice.pdf",
    )


def test_names_lose_paths_and_control_and_bidi_characters():
    assert safe_name("../../etc/passwd", extension="pdf") == "passwd.pdf"
    assert safe_name("invoice\u202egnp.exe", extension="pdf") == "invoicegnp.pdf"
    assert safe_name("a\x00b\nc.png", extension="png") == "abc.png"
    assert safe_name("", extension="png") == "file.png"
