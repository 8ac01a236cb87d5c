"""An outbox worker's passes as a task of the web process's event loop (the email and
push workers: chatsite.asgi starts them with the first connection or request)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class PassLoop:
    """Run ``run_pass`` (it returns how many rows it handled) again at once while it
    finds work, else after ``poll_seconds``; a failing pass is logged, never fatal."""

    def __init__(
        self, name: str, run_pass: Callable[[], Awaitable[int]], poll_seconds: float
    ) -> None:
        self.name = name
        self.run_pass = run_pass
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Passes until cancelled."""
        while True:
            handled = 0
            try:
                handled = await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s: a pass failed", self.name)
            if not handled:
                await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        """Start ``run`` on the running event loop, once per process."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=self.name
            )
