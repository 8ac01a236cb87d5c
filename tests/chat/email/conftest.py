from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatsite.email import email_settings
from tests.chat.email.smtp import SMTPServer


@pytest.fixture
def smtp_server(settings: Any, tmp_path: Any) -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1; Django's email goes to it."""
    server = SMTPServer()
    server.start()
    for name, value in email_settings(server.url, base_dir=tmp_path).items():
        setattr(settings, name, value)
    settings.SOHBET_PUBLIC_URL = "http://testserver"
    try:
        yield server
    finally:
        server.stop()
