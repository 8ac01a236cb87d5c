"""Decoding an uploaded image takes bounded memory (chat.uploads): measured as the
peak resident memory of a process that cleans the image, nothing else."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from django.conf import settings
from PIL import Image

from chat.uploads import clean_upload

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024

# Cleans each file given (in threads when several), then prints the peak memory it
# took above what the process held before (its resident memory then, against its
# high-water mark after), and what came out.
CLEAN = """
import json, sys, threading
import django
django.setup()
from chat.uploads import UploadRefused, clean_upload

files = [open(path, "rb").read() for path in sys.argv[1:]]
results = [None] * len(files)

def status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])

before = status_kib("VmRSS")

def clean(index):
    try:
        cleaned = clean_upload(files[index], name="image")
        results[index] = [cleaned.width, cleaned.height]
    except UploadRefused as refused:
        results[index] = refused.code

threads = [threading.Thread(target=clean, args=(i,)) for i in range(len(files))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
after = status_kib("VmHWM")
print(json.dumps({"peak_mib": (after - before) / 1024, "results": results}))
"""


def clean_in_a_process(*paths: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", CLEAN, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def blank_png(width: int, height: int) -> bytes:
    """A real RGB PNG of that size, written row by row (a few KB per megapixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    compressor = zlib.compressobj(9)
    row = bytes(1 + 3 * width)
    pixels = b"".join(compressor.compress(row) for _ in range(height))
    pixels += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", pixels),
            chunk(b"IEND", b""),
        ]
    )


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 100, 50)).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_png_just_under_the_pixel_limit_is_refused_without_being_decoded(
    tmp_path: Path,
) -> None:
    # 39.6 million pixels (the limit is 40), 113 KB: ≈ 150 MiB once decoded.
    path = tmp_path / "huge.png"
    path.write_bytes(blank_png(6000, 6600))
    assert 6000 * 6600 < settings.SOHBET_MAX_IMAGE_PIXELS

    measured = clean_in_a_process(path)

    assert measured["results"] == ["too_large"]
    assert measured["peak_mib"] < 16


def test_a_large_photo_is_decoded_at_a_reduced_size_within_the_budget(
    tmp_path: Path,
) -> None:
    # 18 million pixels: 69 MiB decoded at full size, over the 64 MiB budget.
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg(4500, 4000))

    measured = clean_in_a_process(path)

    assert measured["results"] == [[2250, 2000]]
    assert measured["peak_mib"] < 48


def test_photos_uploaded_at_once_are_decoded_one_at_a_time(tmp_path: Path) -> None:
    # 12 million pixels each: within the budget, decoded at full size.
    paths = []
    for number in range(4):
        paths.append(tmp_path / f"photo{number}.jpg")
        paths[-1].write_bytes(jpeg(4000, 3000))

    measured = clean_in_a_process(*paths)

    assert measured["results"] == [[4000, 3000]] * 4
    budget_mib = settings.SOHBET_MAX_IMAGE_DECODE_BYTES / MIB
    assert measured["peak_mib"] < 2 * budget_mib


def test_an_image_within_the_budget_keeps_its_size() -> None:
    cleaned = clean_upload(jpeg(1600, 1200), name="photo.jpg")
    assert (cleaned.width, cleaned.height) == (1600, 1200)
    assert Image.open(io.BytesIO(cleaned.content)).size == (1600, 1200)
