"""The ASGI application with diagnostics for benchmarks; never for deployment.

    BENCH_TRACEMALLOC=1 .venv/bin/daphne -b 127.0.0.1 -p 8001 \\
        bench.diagnostic_asgi:application

``BENCH_TRACEMALLOC=1`` starts tracemalloc (``BENCH_TRACEMALLOC_FRAMES`` frames per
trace, default 1); the first SIGUSR2 takes a snapshot, the next writes the growth
since then, by line, to ``$BENCH_TRACEMALLOC_OUT`` (default
/tmp/sohbet-tracemalloc.txt): ``kill -USR2`` before and after connecting N sockets
gives what each socket costs, and where.

Also, each on when its variable is set (reports go to stderr, Daphne's log, at exit):
``BENCH_GCSTATS=1`` the garbage collector's pauses per generation;
``BENCH_GC_FREEZE=1``, ``BENCH_GC_THRESHOLD=a,b,c``, ``BENCH_SWITCH_INTERVAL=s``
settings that were measured and dropped (docs/performance.md);
``BENCH_PROFILE_WRITER=FILE`` a cProfile of the message writer's batches;
``BENCH_WRITER_TIMES=1`` the writer's stages (store wall and CPU, sending) and batch
sizes; ``BENCH_LOOP_LAG=1`` how late the event loop runs a 2-ms timer.
``BENCH_TRACEMALLOC_COLLECT=1`` runs a full collection before each snapshot (what it
freed, by type, goes to ``$BENCH_TRACEMALLOC_OUT.garbage``).
``BENCH_TRACEMALLOC_DUMP=1`` also writes both snapshots (``.before``, ``.after``
next to the report) for ``tracemalloc.Snapshot.load``. The wrappers replace
functions of Sohbet's own modules, never a library's.

(Until 27 November this module also carried proposed patches as monkey-patches, to
measure them before they landed; they all landed, see docs/performance.md.)
"""

from __future__ import annotations

import os
from typing import Any

from chatsite.asgi import application  # noqa: F401 - sets Django up; re-exported

if os.environ.get("BENCH_TRACEMALLOC"):
    import signal
    import tempfile
    import tracemalloc

    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))
    _snapshots: list[Any] = []
    _OUT = os.environ.get("BENCH_TRACEMALLOC_OUT") or os.path.join(
        tempfile.gettempdir(), "sohbet-tracemalloc.txt"
    )

    def _collect_garbage() -> None:
        """A full collection, so that the snapshot holds what is kept, not cycles
        waiting for the collector; the kinds of objects it freed are appended to
        ``$BENCH_TRACEMALLOC_OUT.garbage``."""
        import collections
        import gc

        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        kinds = collections.Counter(
            f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage
        )
        gc.garbage.clear()
        gc.set_debug(0)
        with open(_OUT + ".garbage", "a") as fh:
            fh.write(f"-- {sum(kinds.values())} objects in cycles\n")
            for kind, count in kinds.most_common(40):
                fh.write(f"{count:8d} {kind}\n")

    def _on_usr2(signum: int, frame: Any) -> None:
        if os.environ.get("BENCH_TRACEMALLOC_COLLECT"):
            _collect_garbage()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if not _snapshots:
            _snapshots.append(snapshot)
            return
        out = _OUT
        key = os.environ.get("BENCH_TRACEMALLOC_KEY", "lineno")  # or "traceback"
        if os.environ.get(
            "BENCH_TRACEMALLOC_DUMP"
        ):  # both, for tracemalloc.Snapshot.load
            _snapshots[0].dump(out + ".before")
            snapshot.dump(out + ".after")
        stats = snapshot.compare_to(_snapshots[0], key)
        total = sum(s.size_diff for s in stats)
        with open(out, "w") as fh:
            fh.write(f"growth: {total / 2**20:.1f} MiB\n")
            for stat in stats[:60]:
                fh.write(
                    f"{stat.size_diff / 2**10:10.0f} KiB {stat.count_diff:8d} "
                    f"{stat.traceback}\n"
                )
                if key == "traceback":
                    for line in stat.traceback.format()[:-2]:
                        fh.write(f"        {line}\n")
        _snapshots[0] = snapshot

    signal.signal(signal.SIGUSR2, _on_usr2)

if os.environ.get("BENCH_GCSTATS"):
    import atexit
    import gc
    import sys
    import time

    _gc_started = [0.0]
    _gc_stats: dict[int, list[float]] = {0: [], 1: [], 2: []}
    _gc_long: list[tuple[float, int, float]] = []  # (when, generation, pause) >= 2 ms

    def _on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            _gc_started[0] = time.perf_counter()
        else:
            pause = time.perf_counter() - _gc_started[0]
            _gc_stats[info["generation"]].append(pause)
            if pause >= 0.002:
                _gc_long.append((time.time(), info["generation"], pause))

    def _report_gc() -> None:
        if os.environ.get("BENCH_GCSTATS_FILE"):
            with open(f"{os.environ['BENCH_GCSTATS_FILE']}.{os.getpid()}", "w") as fh:
                for when, generation, pause in _gc_long:
                    fh.write(f"{when:.3f} gen{generation} {pause * 1000:.1f} ms\n")
        for generation, pauses in _gc_stats.items():
            if pauses:
                pauses.sort()
                sys.stderr.write(
                    f"gc gen{generation}: {len(pauses)} collections, "
                    f"total {sum(pauses) * 1000:.0f} ms, "
                    f"p50 {pauses[len(pauses) // 2] * 1000:.2f} ms, "
                    f"max {pauses[-1] * 1000:.1f} ms\n"
                )

    gc.callbacks.append(_on_gc)
    atexit.register(_report_gc)

if os.environ.get("BENCH_GC_THRESHOLD"):
    import gc

    gc.set_threshold(*(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(",")))
if os.environ.get("BENCH_GC_FREEZE"):
    import gc

    gc.freeze()

if os.environ.get("BENCH_PROFILE_WRITER"):
    # cProfile of the message writer's batches stored on its thread, written at exit.
    import atexit
    import cProfile

    from realtime import writer as _writer

    _profile = cProfile.Profile()
    _store_on_thread = _writer.Writer._store_on_thread

    def _profiled_store(self: Any, items: Any, hint: Any = None) -> Any:
        _profile.enable()
        try:
            return _store_on_thread(self, items, hint)
        finally:
            _profile.disable()

    _writer.Writer._store_on_thread = _profiled_store  # type: ignore[method-assign]
    atexit.register(_profile.dump_stats, os.environ["BENCH_PROFILE_WRITER"])

if os.environ.get("BENCH_SWITCH_INTERVAL"):
    import sys

    sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))

if os.environ.get("BENCH_WRITER_TIMES"):
    # Wall and CPU time of the message writer's stages per batch, printed at exit.
    import atexit
    import sys
    import time

    from realtime import delivery as _delivery
    from realtime import writer as _wmod

    _times: dict[str, list[float]] = {"store_wall": [], "send": [], "size": []}
    _orig_send = _delivery.publish
    _orig_on_loop = _wmod.Writer._store_on_loop
    _orig_store = _wmod.Writer._store

    async def _timed_send(routed: Any) -> Any:
        w = time.perf_counter()
        try:
            return await _orig_send(routed)
        finally:
            _times["send"].append(time.perf_counter() - w)

    async def _timed_on_loop(self: Any, queued: Any) -> Any:
        # On the event loop (PostgreSQL): wall time only, the loop's CPU is shared.
        w = time.perf_counter()
        try:
            return await _orig_on_loop(self, queued)
        finally:
            _times["store_wall"].append(time.perf_counter() - w)
            _times["size"].append(len(queued))

    def _timed_store(self: Any, queued: Any) -> Any:
        w = time.perf_counter()
        try:
            return _orig_store(self, queued)
        finally:
            _times["store_wall"].append(time.perf_counter() - w)
            _times["size"].append(len(queued))

    _wmod.Writer._store_on_loop = _timed_on_loop  # type: ignore[method-assign]
    _wmod.Writer._store = _timed_store  # type: ignore[method-assign]
    _wmod.delivery.publish = _timed_send  # type: ignore[assignment]

    def _report_writer() -> None:
        for name, values in _times.items():
            if values:
                values.sort()
                unit = 1 if name == "size" else 1000
                sys.stderr.write(
                    f"writer {name}: n={len(values)} "
                    f"mean={sum(values) / len(values) * unit:.2f} "
                    f"p50={values[len(values) // 2] * unit:.2f} "
                    f"p99={values[int(len(values) * 0.99)] * unit:.2f}\n"
                )

    atexit.register(_report_writer)

if os.environ.get("BENCH_LOOP_LAG"):
    # How late the server's event loop runs a timer (every 2 ms), printed at exit:
    # what every frame and every answer waits for on top of its own work.
    import asyncio
    import atexit
    import sys
    import time

    _lags: list[float] = []
    _inner = application

    async def _measure_lag() -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.002
            await asyncio.sleep(0.002)
            _lags.append(loop.time() - due)

    _lag_task: list[Any] = []

    async def application(scope: Any, receive: Any, send: Any) -> Any:  # type: ignore[no-redef]
        if not _lag_task:
            _lag_task.append(asyncio.get_running_loop().create_task(_measure_lag()))
        return await _inner(scope, receive, send)

    def _report_lag() -> None:
        if _lags:
            values = sorted(_lags)
            sys.stderr.write(
                f"loop lag: n={len(values)} p50={values[len(values) // 2] * 1000:.2f} "
                f"p99={values[int(len(values) * 0.99)] * 1000:.2f} "
                f"p999={values[int(len(values) * 0.999)] * 1000:.2f} "
                f"max={values[-1] * 1000:.1f} ms\n"
            )

    atexit.register(_report_lag)
