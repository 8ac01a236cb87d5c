#!/usr/bin/env python3
"""Micro-benchmark: the message writer storing small batches (what it does at a few
hundred messages a second), alone, in a loop: CPU and wall time per batch.

    DJANGO_DEBUG=1 scripts/services.sh exec -- sh -c \\
        '.venv/bin/python manage.py migrate -v0 &&
         .venv/bin/python bench/micro_store_batch.py'

It commits: run it on a scratch database (scripts/services.sh makes a fresh one).
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "micro-benchmark-only")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from chat import services  # noqa: E402
from chat.services import NewMessage  # noqa: E402
from realtime import writer  # noqa: E402


def main(batches: int = 1500, size: int = 3) -> None:
    threads = [
        services.start_visitor(session_key=f"micro{n:027d}")[1].pk for n in range(50)
    ]
    rng = random.Random(7)

    def batch() -> list[tuple[NewMessage, None]]:
        return [
            (
                NewMessage(
                    thread_id=rng.choice(threads), client_id=uuid.uuid4(), body="x" * 60
                ),
                None,
            )
            for _ in range(size)
        ]

    for _ in range(100):  # warm up: statements prepared, connection made
        writer._store(batch())
    work = [batch() for _ in range(batches)]
    cpu, wall = time.thread_time(), time.perf_counter()
    for posts in work:
        writer._store(posts)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    print(
        f"{batches} batches of {size}: {cpu / batches * 1000:.3f} ms CPU, "
        f"{wall / batches * 1000:.3f} ms wall per batch"
    )


if __name__ == "__main__":
    main()
