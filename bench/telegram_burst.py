#!/usr/bin/env python3
"""A burst of visitor messages across several conversations, through the Telegram
bridge's outbox, into a fake Bot API that enforces Telegram's own limits (one message
a second per chat with short bursts, 20 a minute per group, 30 a second in all).

Messages are stored as the site stores them (``chat.services.post_message``: the
message and its outbox row in one transaction), evenly over ``--seconds``, round
robin over ``--conversations``; the bridge's outbox loop (``Bridge.deliver_outbox``,
real time, woken as the channel layer wakes it) delivers them to a forum group.
Prints, and with ``--json`` writes: the sends, the 429s provoked, whether each
conversation arrived whole and in order, and how long after it was written each
message was in Telegram (p50, p90, max; the last message's).

    .venv/bin/python bench/telegram_burst.py [--messages 60] [--seconds 10] \
        [--conversations 5] [--json out.json]

Without DATABASE_URL it migrates and uses a scratch SQLite file under .tmp/; with it
(``scripts/services.sh exec -- ...``) that database, which it writes to: use a
scratch one. Only ever listens on and connects to 127.0.0.1. Exit status 0 when
every message arrived in order with no 429, 1 otherwise. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHAT_ID = -1001234567890


def setup_django() -> None:
    from tests.telegram.fakebot import DEFAULT_TOKEN

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["TELEGRAM_BOT_TOKEN"] = DEFAULT_TOKEN
    os.environ["TELEGRAM_CHAT_ID"] = str(CHAT_ID)
    if not os.environ.get("DATABASE_URL"):
        scratch = ROOT / ".tmp" / "bench-telegram.sqlite3"
        scratch.parent.mkdir(exist_ok=True)
        scratch.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(messages: int, seconds: float, conversations: int) -> dict[str, object]:
    from channels.db import database_sync_to_async

    from chat import services
    from chat.models import Message
    from telegram_bridge import services as bridge_services
    from telegram_bridge.bot import build_application
    from tests.telegram.fakebot import BOT_ID, BOT_USERNAME, FakeBotApi

    def new_thread(n: int) -> int:
        visitor, thread = services.start_visitor(session_key=uuid.uuid4().hex)
        services.rename_visitor(visitor_id=visitor.pk, name=f"Visitor {n}")
        return thread.pk

    def post(thread_id: int, body: str) -> None:
        services.post_message(
            thread_id=thread_id,
            client_id=uuid.uuid4(),
            body=body,
            author=Message.Author.VISITOR,
            author_name="",
        )

    with FakeBotApi() as api:  # Telegram's limits, real time
        bridge = build_application(
            token=api.token,
            chat_id=CHAT_ID,
            base_url=api.base_url.removesuffix("/bot"),
            owner="bench",
        )
        await bridge.bot.initialize()
        bridge.configure(bot_id=BOT_ID, bot_username=BOT_USERNAME, is_forum=True)
        await database_sync_to_async(bridge_services.acquire_lease)(
            owner="bench", ttl_seconds=3600
        )
        threads = [
            await database_sync_to_async(new_thread)(n) for n in range(conversations)
        ]
        stop = asyncio.Event()
        loop = asyncio.create_task(bridge.deliver_outbox(stop))
        written: dict[str, float] = {}
        start = time.monotonic()
        for n in range(messages):
            await asyncio.sleep(
                max(0.0, start + n * seconds / messages - time.monotonic())
            )
            body = f"burst {n:03d}"
            await database_sync_to_async(post)(threads[n % conversations], body)
            written[body] = time.monotonic()
            bridge.wake_outbox()  # as the channel layer's message event does
        last = f"burst {messages - 1:03d}"
        try:
            await api.wait_for_async(
                lambda f: all(
                    any(body in m.get("text", "") for m in f.sent_messages())
                    for body in written
                ),
                timeout=300,
            )
        finally:
            stop.set()
            await loop
            await bridge.bot.shutdown()

        arrived: dict[str, float] = {}
        for call in api.calls("sendMessage"):
            if call.status == 200:
                for body in re.findall(r"burst \d{3}", call.params.get("text", "")):
                    arrived.setdefault(body, call.at)
        in_order = all(
            re.findall(r"burst \d{3}", "\n".join(m["text"] for m in sent))
            == sorted(re.findall(r"burst \d{3}", "\n".join(m["text"] for m in sent)))
            for sent in (api.sent_messages(thread_id=t) for t in api.topics)
        )
        delays = [arrived[body] - written[body] for body in written]
        return {
            "messages": messages,
            "seconds": seconds,
            "conversations": conversations,
            "sends": len([c for c in api.calls("sendMessage") if c.status == 200]),
            "topics": len(api.topics),
            "responses_429": len([c for c in api.calls() if c.status == 429]),
            "flood_violations": len(api.flood_violations),
            "all_arrived_in_order": in_order and len(arrived) == messages,
            "delay_p50_s": round(statistics.median(delays), 2),
            "delay_p90_s": round(percentile(delays, 0.9), 2),
            "delay_max_s": round(max(delays), 2),
            "last_written_to_in_telegram_s": round(arrived[last] - written[last], 2),
            "first_written_to_all_in_telegram_s": round(
                max(arrived.values()) - start, 2
            ),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args()
    if args.messages < 1 or args.conversations < 1 or args.seconds < 0:
        parser.error("messages and conversations at least 1, seconds at least 0")
    setup_django()
    report = asyncio.run(run(args.messages, args.seconds, args.conversations))
    for key, value in report.items():
        print(f"{key:<36} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    ok = report["all_arrived_in_order"] and not report["responses_429"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
