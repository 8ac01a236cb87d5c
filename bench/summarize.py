#!/usr/bin/env python3
"""Markdown tables from the JSON reports of bench/run_all.sh (or bench/load.py --json).

python bench/summarize.py OUTDIR [OUTDIR...]

Scenario n's and m's runs (``n_RATEps_COUNTv_HOW[_ROUND]``) get a table: with an
``idle`` run of the same sockets and window, the server CPU that run took is
subtracted before dividing by the conversations (what a message adds, the idle
sockets' pings and timers aside).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def ms(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"


def row(name: str, r: dict[str, Any]) -> str:
    m, v, s = r["messages"], r["visitors"], r["server"]
    ops = r["operators"]
    received = "/".join(str(op["received"]) for op in ops) or "-"
    missing = "/".join(str(op["missing"]) for op in ops) or "-"
    late = "/".join(str(op.get("missing_at_drain_end", "-")) for op in ops) or "-"
    dups = "/".join(str(op["duplicates"]) for op in ops) or "-"
    delivery = max((op["delivery_latency"]["p99_ms"] or 0 for op in ops), default=None)
    delivery_p50 = max(
        (op["delivery_latency"]["p50_ms"] or 0 for op in ops), default=None
    )
    failed = sum(v["failed_connects"].values())
    closes = sum(v["unexpected_closes"].values())
    trouble = (f" ({failed} failed)" if failed else "") + (
        f" {closes} closed" if closes else ""
    )
    per_message = s.get("cpu_ms_per_acked_message") or "-"
    c = r["config"]
    offered = int(c["visitors"] * c["rate"])
    return (
        f"| {name} | {offered} | {v['connected']}/{v['target']}"
        f"{trouble}"
        f" | {m['sent']} | {m['acked']} ({m['acked_per_s']}/s) | {m['unacked']}"
        f" | {ms(m['ack_latency']['p50_ms'])} / {ms(m['ack_latency']['p99_ms'])}"
        f" | {received} | {late} → {missing} | {dups}"
        f" | {ms(delivery_p50)} / {ms(delivery)}"
        f" | {s['cpu_percent_in_window']} % | {per_message}"
        f" | {r.get('foreign_cpu_seconds_estimate', '-')} s |"
    )


HEADER = (
    "| run | offered msg/s | sockets | sent | acked | unacked | ack p50 / p99 "
    "| received by operators | missing at drain end → after grace | dup "
    "| delivery p50 / p99 | server CPU | CPU ms / msg | other load on host |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def new_conversation_runs(runs: dict[str, dict[str, Any]]) -> None:
    """Scenarios n and m: each run's CPU per conversation (its first messages: in m
    the background's messages are not counted), whole and less its idle twin's."""
    rows = []
    for name, r in sorted(runs.items()):
        parts = name.split("_")
        if parts[0] not in ("n", "m") or len(parts) < 4 or parts[3] == "idle":
            continue
        twin = "_".join([*parts[:3], "idle", *parts[4:]])
        idle = runs.get(twin, {}).get("server", {}).get("cpu_seconds_in_window")
        window = r["server"]["cpu_seconds_in_window"]
        first = r["messages"].get("first_ack_latency") or {}
        count = first.get("count") or 1
        marginal = f"{(window - idle) / count * 1000:.2f}" if idle is not None else "-"
        idle_share = f"{idle / count * 1000:.2f}" if idle is not None else "-"
        rows.append(
            f"| {name} | {count} | {ms(first.get('p99_ms'))} "
            f"| {window / count * 1000:.2f} | {idle_share} | {marginal} |"
        )
    if rows:
        print(
            "\n| run | arrivals | their first message's ack p99 | server CPU ms each "
            "(window) | of it the idle twin's | ms each, the twin's subtracted |\n"
            "|---|---|---|---|---|---|"
        )
        print("\n".join(rows))


def main() -> None:
    for outdir in sys.argv[1:]:
        path = Path(outdir)
        machine = path / "machine.txt"
        print(f"\n### {path.name}\n")
        if machine.exists():
            print("```\n" + machine.read_text().strip() + "\n```\n")
        runs = sorted(
            path.glob("*.json"),
            key=lambda p: (
                p.stem[0],
                float(p.stem.rsplit("_r", 1)[-1]) if "_r" in p.stem else 0,
            ),
        )
        reports = {p.stem: json.loads(p.read_text()) for p in runs}
        message_runs = [p for p in runs if reports[p.stem]["config"]["rate"]]
        if message_runs:
            print(HEADER)
            for p in message_runs:
                print(row(p.stem, reports[p.stem]))
        for p in runs:
            r = reports[p.stem]
            if r["config"]["rate"] or r["config"].get("arrivals"):
                continue
            s, v = r["server"], r["visitors"]
            print(
                f"\n{p.stem}: {v['connected']}/{v['target']} sockets connected in "
                f"{r['connect_seconds']} s, {v['held_at_end']} held at the end, failed "
                f"{v['failed_connects'] or 'none'}, unexpected closes "
                f"{v['unexpected_closes'] or 'none'}; server RSS "
                f"{s['rss_kib_before'] / 1024:.1f} → "
                f"{s['rss_kib_connected'] / 1024:.1f} MiB = "
                f"{s['rss_mib_per_1000_sockets']} MiB per 1,000 sockets; idle "
                f"CPU {s['cpu_percent_in_window']} %"
            )
        new_conversation_runs(reports)


if __name__ == "__main__":
    main()
