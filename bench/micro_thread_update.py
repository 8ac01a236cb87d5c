#!/usr/bin/env python3
"""Micro-benchmark: writing a batch's thread rows with Django's ``bulk_update`` against
the message path's one ``UPDATE ... FROM json_populate_recordset(...)``
(realtime.sql.update_rows).

    DATABASE_URL=postgres://... DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/micro_thread_update.py

Everything happens inside one transaction that is rolled back: it creates its own
visitors and threads and leaves the database as it found it. PostgreSQL only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Thread, Visitor  # noqa: E402
from chat.services import THREAD_POST_FIELDS  # noqa: E402
from realtime.sql import update_rows  # noqa: E402

FIELDS = list(THREAD_POST_FIELDS)


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only (set DATABASE_URL)")
    print(f"{'rows':>5} {'bulk_update':>14} {'batchsql':>14}   (ms per batch)")
    with transaction.atomic():
        visitors = Visitor.objects.bulk_create(
            Visitor(session_key=f"bench-{i}") for i in range(256)
        )
        threads = Thread.objects.bulk_create(Thread(visitor=v) for v in visitors)
        for n in (1, 4, 16, 64, 256):
            batch = threads[:n]
            reps = max(3, 64 // n)
            timings = {}
            for name, write in (
                ("bulk_update", lambda b: Thread.objects.bulk_update(b, FIELDS)),
                ("unnest", lambda b: update_rows(b, FIELDS)),
            ):
                start = time.perf_counter()
                for _ in range(reps):
                    for thread in batch:
                        thread.last_seq += 1
                        thread.operator_unread_count += 1
                        thread.updated_at = timezone.now()
                    write(batch)
                timings[name] = (time.perf_counter() - start) / reps * 1000
            print(f"{n:>5} {timings['bulk_update']:>14.2f} {timings['unnest']:>14.2f}")
        check = Thread.objects.get(pk=threads[0].pk)
        assert check.last_seq == threads[0].last_seq, "unnest wrote other values"
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
