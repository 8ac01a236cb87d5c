"""Real server processes for the deployment tests: Daphne, Redis and PostgreSQL.

Each test that stops a service starts its own throw-away copy (on a free port on
127.0.0.1, data in a temporary directory), so stopping it affects nobody else. As root,
Redis and PostgreSQL run as the ``postgres`` user (PostgreSQL refuses root), as
``scripts/services.sh`` does. Every process is stopped by its own PID.
"""

from __future__ import annotations

import itertools
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / ".tmp" / "deploy"
_log_numbers = itertools.count()


def log_path(name: str) -> Path:
    """A fresh log file (a restarted server keeps its port, not its log)."""
    return LOG_DIR / f"{name}-{os.getpid()}-{next(_log_numbers)}.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, step: float = 0.05
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)  # polling a condition with a deadline


def _service_user() -> tuple[int, int] | None:
    """The (uid, gid) to run servers as when we are root, else None."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    return None


def _as_service_user(command: list[str]) -> list[str]:
    user = _service_user()
    if user is None:
        return command
    uid, gid = user
    prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    return [*prefix, *command]


def _service_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"sohbet-{prefix}-"))
    user = _service_user()
    if user is not None:
        os.chown(path, *user)
    path.chmod(0o700)
    return path


class Process:
    """A child process stopped by its own PID."""

    name = "process"
    port: int  # set by each kind of server

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []  # one per start

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self, command: list[str], *, log: Path, **kwargs: object) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs.append(log)
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # type: ignore[call-overload]
                command, stdout=out, stderr=subprocess.STDOUT, **kwargs
            )

    def _start(
        self,
        command: list[str],
        *,
        log: str,
        ready: Callable[[], bool],
        timeout: float,
        **kwargs: object,
    ) -> None:
        """Spawn ``command`` (its log named ``log-<port>``) and wait until ``ready``;
        killed if it does not get there."""
        self._spawn(command, log=log_path(f"{log}-{self.port}"), **kwargs)
        try:
            wait_until(ready, timeout=timeout, what=f"{log} on {self.port}")
        except BaseException:
            self.stop(signal.SIGKILL)
            raise

    def send_signal(self, signum: int) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signum)

    def wait_exit(self, timeout: float = 15) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Send ``signum`` and wait for the exit; SIGKILL after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of each run's log."""
        tails = []
        for log in self.logs:
            try:
                text = log.read_text(errors="replace")
            except OSError:
                continue
            tails.append(f"{log}:\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(tails)

    def remove_logs(self) -> None:
        for log in self.logs:
            log.unlink(missing_ok=True)


class Daphne(Process):
    """The web process as deployed (``python -m chatsite.server``, Daphne's command
    line) serving ``chatsite.asgi:application`` on 127.0.0.1 with the test settings."""

    name = "daphne"

    def __init__(
        self,
        *,
        env: dict[str, str],
        port: int | None = None,
        file_size_limit: int | None = None,
    ) -> None:
        super().__init__()
        self.env = env
        self.port = port or free_port()
        # Bytes any file the process writes may reach (RLIMIT_FSIZE): a write past
        # it fails as on a full disk (EFBIG; Python ignores SIGXFSZ).
        self.file_size_limit = file_size_limit

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> Daphne:
        command = [
            *(sys.executable, "-m", "chatsite.server", "-b", "127.0.0.1"),
            *("-p", str(self.port), "--websocket-max-message-size", "65536"),
            "--no-server-name",
            "chatsite.asgi:application",
        ]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        limit = self.file_size_limit

        def limit_file_size() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        self._start(
            command,
            log="daphne",
            ready=self._answers,
            timeout=30,
            cwd=ROOT,
            env=env,
            preexec_fn=limit_file_size,
        )
        return self

    def _answers(self) -> bool:
        if not self.running():
            raise RuntimeError(f"daphne exited:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.http + "/healthz/", timeout=1):  # noqa: S310
                return True
        except urllib.error.HTTPError:
            return True  # it answers HTTP; what the page says is not our concern
        except OSError:
            return False


class RedisServer(Process):
    """A private redis-server; ``stop()`` then ``start()`` keeps its port."""

    name = "redis-server"

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.dir = _service_dir("redis")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = _as_service_user(
            [
                "redis-server",
                *("--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.dir)),
                *("--daemonize", "no", "--logfile", "", "--loglevel", "warning"),
            ]
        )
        self._start(command, log="redis", ready=self.answers, timeout=20, cwd=self.dir)
        return self

    def answers(self) -> bool:
        if not self.running():
            raise RuntimeError(f"redis-server exited:\n{self.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if (path / "initdb").exists() and (path / "postgres").exists():
            return path
    raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")


class PostgresServer(Process):
    """A private PostgreSQL cluster; ``stop()`` then ``start()`` keeps port and data."""

    name = "postgres"

    def __init__(self) -> None:
        super().__init__()
        self.bindir = _pg_bindir()
        self.port = free_port()
        self.dir = _service_dir("pg")
        (self.dir / "sock").mkdir()
        user = _service_user()
        if user is not None:
            os.chown(self.dir / "sock", *user)
        subprocess.run(
            _as_service_user(
                [
                    str(self.bindir / "initdb"),
                    *("-D", str(self.dir / "data"), "-U", "postgres"),
                    *("--auth=trust", "--no-locale", "-E", "UTF8"),
                    *("--no-sync", "--no-instructions"),
                ]
            ),
            cwd=self.dir,
            check=True,
            capture_output=True,
        )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        command = _as_service_user(
            [
                str(self.bindir / "postgres"),
                *("-D", str(self.dir / "data")),
                *("-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}"),
                *("-c", f"unix_socket_directories={self.dir / 'sock'}"),
                *("-c", "fsync=off", "-c", "synchronous_commit=off"),
                *("-c", "full_page_writes=off", "-c", "max_connections=50"),
            ]
        )
        self._start(
            command, log="postgres", ready=self.answers, timeout=30, cwd=self.dir
        )
        return self

    def answers(self) -> bool:
        if not self.running():
            raise RuntimeError(f"postgres exited:\n{self.log_tail()}")
        ready = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1"]
            + ["-p", str(self.port), "-U", "postgres", "-d", "postgres"],
            check=False,
        )
        return ready.returncode == 0

    def stop(self, signum: int = signal.SIGINT, timeout: float = 15) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: sessions are disconnected at once.
        super().stop(signum, timeout)

    def psql(self, database: str, sql: str) -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
            + ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + ["-d", database, "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
