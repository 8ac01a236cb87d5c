"""What the web process checks before it serves (realtime.server)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)


def refuse_to_start_unless_sound(websocket_limit: int) -> None:
    """Exit with the reasons when Django's system checks find errors (warnings are
    logged), or when the WebSocket library's message limit is below the frames the
    application sends."""
    problems = checks.run_checks()
    for problem in problems:
        if not problem.is_silenced():
            log = logger.error if problem.is_serious() else logger.warning
            log("%s", problem)
    if any(p.is_serious() and not p.is_silenced() for p in problems):
        raise SystemExit("System check errors: the server does not start.")
    if 0 < websocket_limit < settings.SOHBET_MAX_SERVER_FRAME_BYTES:
        raise SystemExit(
            f"--websocket-max-message-size {websocket_limit} is below "
            f"SOHBET_MAX_SERVER_FRAME_BYTES ({settings.SOHBET_MAX_SERVER_FRAME_BYTES}):"
            " frames up to that size could not be sent. Raise the first or lower"
            " the second."
        )
