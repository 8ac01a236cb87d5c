"""The pages' ES modules as production serves them: collectstatic with the
production storage (chatsite/staticfiles.py) gives every module a hashed name and
rewrites the imports to those names, so a page never mixes two releases."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
# The pages' scripts (the admin's appearance page and /continue/ have one each,
# importing nothing).
PAGES = (
    "chat/visitor.js",
    "chat/inbox.js",
    "chat/appearance-admin.js",
    "chat/continue.js",
    "chat/offline.js",
)
IMPORT = re.compile(r"""^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)";""", re.M | re.S)
HASHED = re.compile(r"\.[0-9a-f]{12}\.js$")


def collect(settings: Any, root: Path) -> dict[str, str]:
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "chatsite.staticfiles.StaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((root / "staticfiles.json").read_text())
    return dict(manifest["paths"])


def imports_of(path: Path) -> list[str]:
    return IMPORT.findall(path.read_text())


def test_every_module_import_points_at_a_hashed_file_of_the_same_release(
    settings: Any, tmp_path: Path
) -> None:
    paths = collect(settings, tmp_path)
    hashed_modules = {
        hashed for name, hashed in paths.items() if name.startswith("chat/")
    }
    seen: set[str] = set()
    todo = [paths[page] for page in PAGES]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert HASHED.search(name), name
        for spec in imports_of(tmp_path / name):
            assert spec.startswith("./") or spec.startswith("../"), (name, spec)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), spec))
            assert target in hashed_modules, (name, spec)
            todo.append(target)
    # Every module of the library is reached from a page: none is dead.
    sources = {
        p.relative_to(ROOT / "static").as_posix()
        for p in (ROOT / "static" / "chat").rglob("*.js")
    }
    assert {paths[s] for s in sources} == seen
