#!/usr/bin/env python3
"""Summarise a py-spy "raw" profile (collapsed stacks) per thread.

    py-spy record --pid PID --duration 20 --rate 200 --threads --format raw -o x.txt
    python bench/spy_summary.py x.txt [--top 30] [--thread MainThread]

Prints each thread's share of the samples, then for each selected thread the
functions with the most inclusive samples (on the stack) and self samples (on top).
Percentages are of that thread's samples. Idle threads blocked in a wait are
sampled too when py-spy cannot tell they are idle: read them with that in mind.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--thread", action="append", default=[], help="substring")
    args = p.parse_args()

    per_thread: Counter[str] = Counter()
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    self_time: dict[str, Counter[str]] = defaultdict(Counter)
    with open(args.path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            stack, count_text = line.rsplit(" ", 1)
            count = int(count_text)
            frames = stack.split(";")
            thread = frames[0]
            name = re.sub(r"thread \(\d+\): ", "", thread)
            if name.startswith("asyncio_") or name.startswith("pool-1-"):
                name = re.sub(r"_\d+$|-\d+$", "*", name)
            per_thread[name] += count
            seen: set[str] = set()
            for frame in frames[1:]:
                key = short(frame)
                if key not in seen:
                    seen.add(key)
                    inclusive[name][key] += count
            if len(frames) > 1:
                self_time[name][short(frames[-1])] += count

    total = sum(per_thread.values())
    print(f"samples: {total}")
    for name, count in per_thread.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    selected = [
        name
        for name in per_thread
        if not args.thread or any(t in name for t in args.thread)
    ]
    for name in sorted(selected, key=lambda n: -per_thread[n]):
        n = per_thread[name]
        print(f"\n== {name}: {n} samples")
        print("  inclusive:")
        for key, count in inclusive[name].most_common(args.top):
            print(f"    {100 * count / n:5.1f}%  {key}")
        print("  self:")
        for key, count in self_time[name].most_common(min(15, args.top)):
            print(f"    {100 * count / n:5.1f}%  {key}")


if __name__ == "__main__":
    main()
