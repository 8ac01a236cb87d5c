"""axe-core (the npm package, node_modules/, installed by scripts/test.sh) in a page."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA and what it builds on.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_script() -> Path:
    """The path of axe.min.js, installed from package-lock.json when missing."""
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=300
        )
    if not AXE.exists():
        message = f"{AXE} is missing: npm ci (scripts/test.sh does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE


def violations(page: Any, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """axe's serious and critical violations of WCAG 2.2 AA in the page as it is now,
    less those of the ``exclude`` selectors; each with the nodes' selectors."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through DevTools: the pages' CSP refuses an inline <script>.
        page.evaluate(axe_script().read_text())
    result = page.evaluate(
        """async ([exclude, tags]) => {
            const context = exclude.length
              ? { include: [document], exclude: exclude.map((s) => [s]) }
              : document;
            const found = await axe.run(context, {
              runOnly: { type: "tag", values: tags },
              resultTypes: ["violations"],
            });
            return found.violations
              .filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => ({
                id: v.id,
                impact: v.impact,
                nodes: v.nodes.map((n) => [n.target.join(" "), n.failureSummary]),
              }));
        }""",
        [exclude or [], TAGS],
    )
    return list(result)
