"""realtime.localcopy: a value kept in each process, checked against a version in the
shared cache at most once a second, loaded again when another process changed it."""

from __future__ import annotations

from typing import Any

from realtime import localcopy
from realtime.localcopy import LocalCopy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def copies(value: dict[str, Any], *, max_age: float = 60) -> tuple[Any, ...]:
    """Two processes' copies of one value (one cache), a clock, and the loads."""
    clock = Clock()
    loads: list[int] = []

    def load() -> dict[str, Any]:
        loads.append(1)
        return dict(value)

    def copy() -> LocalCopy[dict[str, Any]]:
        return LocalCopy("test.copy", load, max_age=lambda: max_age, clock=clock)

    return copy(), copy(), clock, loads


def test_the_copy_is_read_without_the_cache_until_a_second_has_passed() -> None:
    value = {"color": "#000000"}
    here, _there, clock, loads = copies(value)
    assert here.peek() is None  # nothing held yet: the caller asks get()
    assert here.get() == {"color": "#000000"}
    clock.now += 0.5
    assert here.get() == here.peek() == {"color": "#000000"}
    assert len(loads) == 1
    clock.now += 0.6  # past the second: the version is read, unchanged
    assert here.peek() is None
    assert here.get() == {"color": "#000000"}
    assert len(loads) == 1


def test_a_change_in_another_process_is_seen_within_a_second() -> None:
    value = {"color": "#000000"}
    here, there, clock, loads = copies(value)
    here.get()
    there.get()
    value["color"] = "#ffffff"
    there.changed()  # after the commit, in the process that saved it
    assert there.get() == {"color": "#ffffff"}  # at once where it changed
    assert here.get() == {"color": "#000000"}  # within the second: the old copy
    clock.now += localcopy.CHECK_EVERY
    assert here.get() == {"color": "#ffffff"}
    assert len(loads) == 4


def test_a_copy_is_loaded_again_when_it_is_max_age_old_or_kept_not_at_all() -> None:
    value = {"color": "#000000"}
    here, _there, clock, loads = copies(value, max_age=5)
    here.get()
    clock.now += 4
    here.get()
    assert len(loads) == 1
    clock.now += 1
    here.get()
    assert len(loads) == 2
    never, _other, _clock, never_loads = copies(value, max_age=0)
    never.get()
    never.get()
    assert never.peek() is None
    assert len(never_loads) == 2
