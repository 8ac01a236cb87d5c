"""The README's first command, ``make run``: what it installs, and when it says the
chat is ready."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_run_installs_the_runtime_requirements_only(tmp_path: Path) -> None:
    planned = subprocess.run(
        ["make", "-n", "run", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installs = re.findall(r"pip install [^;\n]*", planned)
    assert installs and all("-r requirements.txt" in line for line in installs)
    assert "requirements-dev.txt" not in planned


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``make run`` on a free port with the embedded defaults and a new database;
    its whole process group is stopped at the end."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "ADMIN_USERNAME", "ADMIN_PASSWORD")
    }
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), PYTHONUNBUFFERED="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make, the shell and the server
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def test_make_run_prints_one_ready_line_once_the_server_listens(
    make_run: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = make_run
    assert process.stdout is not None
    output = []
    for line in process.stdout:  # until make prints it, or exits (bounded: timeout)
        output.append(line)
        if "Sohbet is ready" in line:
            break
    ready = [line for line in output if "Sohbet is ready" in line]
    assert len(ready) == 1, "".join(output)
    assert f"chat page {url}/ " in ready[0] and f"inbox {url}/admin/inbox/" in ready[0]
    # Listening already: no retry needed.
    with urllib.request.urlopen(url + "/", timeout=10) as page:  # noqa: S310
        assert page.status == 200
    head = urllib.request.Request(url + "/", method="HEAD")  # noqa: S310
    with urllib.request.urlopen(head, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200 and answer.read() == b""


def test_the_requirements_say_why_and_point_only_to_what_exists() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / name).read_text()
        for path in re.findall(r"\b(?:docs|scripts)/[\w./-]*", text):
            assert (ROOT / path.rstrip(".")).exists(), f"{name}: {path}"
        assert "design card" not in text
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#") and not lines[number - 1].startswith("#"):
            # a pin without a reason right above it, unless it shares the one above
            assert "==" in lines[number - 1], f"requirements.txt: {line} says no why"
