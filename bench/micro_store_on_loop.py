#!/usr/bin/env python3
"""Micro-benchmark: the message writer's batches on PostgreSQL as the event loop
stores them (``chat.storage.MessageStore.astore`` on the writer's own asyncio
connection), alone: per batch, this process's CPU, the PostgreSQL backend's CPU and
the wall time, in rounds, so that a plan that degrades as the tables grow shows.

    DJANGO_DEBUG=1 scripts/services.sh exec -- sh -c \\
        '.venv/bin/python manage.py migrate -v0 &&
         .venv/bin/python bench/micro_store_on_loop.py --threads 1000 --size 1'

It commits: run it on a scratch database (scripts/services.sh makes a fresh one).
Reads the backend's CPU from /proc: the database must run on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "micro-benchmark-only")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from chat import services  # noqa: E402
from chat.services import NewMessage  # noqa: E402
from chat.storage import STORE  # noqa: E402
from realtime import sql  # noqa: E402


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def conversations(count: int) -> list[int]:
    return [
        services.start_visitor(session_key=f"onloop{n:026d}")[1].pk
        for n in range(count)
    ]


async def main(ids: list[int], size: int, rounds: int, batches: int) -> None:
    threads = len(ids)
    rng = random.Random(7)
    aconnection = await sql.connect()
    row = await (await aconnection.execute("SELECT pg_backend_pid()")).fetchone()
    pid = row[0]
    print(f"{threads} threads, batches of {size}, {batches} batches per round")
    try:
        for number in range(rounds):
            work = [
                [
                    NewMessage(
                        thread_id=rng.choice(ids), client_id=uuid.uuid4(), body="x" * 60
                    )
                    for _ in range(size)
                ]
                for _ in range(batches)
            ]
            cpu, database, wall = (
                time.process_time(),
                backend_cpu(pid),
                time.perf_counter(),
            )
            for posts in work:

                async def admitted(posts: list[NewMessage] = posts) -> Any:
                    return posts

                await STORE.astore(aconnection, posts, admitted)
            cpu = time.process_time() - cpu
            database = backend_cpu(pid) - database
            wall = time.perf_counter() - wall
            print(
                f"round {number}: per batch {cpu / batches * 1000:.3f} ms CPU here, "
                f"{database / batches * 1000:.3f} ms PostgreSQL, "
                f"{wall / batches * 1000:.3f} ms wall"
            )
    finally:
        await aconnection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1, help="messages per batch")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batches", type=int, default=1500, help="per round")
    args = parser.parse_args()
    ids = conversations(args.threads)  # the ORM, before the event loop runs
    asyncio.run(main(ids, args.size, args.rounds, args.batches))
