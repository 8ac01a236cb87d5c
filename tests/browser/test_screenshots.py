"""The README's screenshots are taken by scripts/screenshots.py; its scenes run here
against the test server, so that they keep working as the pages change."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from tests.browser.conftest import ROOT, LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


def load_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "screenshots", ROOT / "scripts" / "screenshots.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_screenshots_can_be_taken(
    daphne_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    get_user_model().objects.create_user(
        "deniz", password="shots-only-password", is_staff=True
    )
    # Its own Playwright, in a thread of its own (this one runs the tests').
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            load_script().shoot,
            daphne_server.url,
            tmp_path,
            username="deniz",
            password="shots-only-password",
        ).result(timeout=120)
    sizes = {
        name: Image.open(tmp_path / name).size
        for name in ("visitor.png", "inbox.png", "inbox-dark.png")
    }
    assert sizes == {
        "visitor.png": (780, 1520),
        "inbox.png": (1280, 760),
        "inbox-dark.png": (1280, 760),
    }
