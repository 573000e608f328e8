"""axe-core in a Playwright page: the accessibility rules a page must pass, checked.

axe-core comes from the npm registry, pinned by `tests/e2e/web/axe/package-lock.json`
and installed by `npm ci --prefix tests/e2e/web/axe` (`.ci/run` does it). The script is
added to the page by Playwright (`add_script_tag` with its content) in a context opened
with `bypass_csp=True`: the pages' `script-src 'none'` would otherwise refuse it, rightly.
When it is not installed the test is skipped loudly, and under CI=true it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import unavailable

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (landmarks, headings, skip links).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_script() -> str:
    """The text of axe.min.js, or a loud skip (a failure under CI=true)."""
    if not AXE.is_file():
        unavailable(
            "axe-core",
            "accessibility tests NOT run: axe-core is not installed "
            "(npm ci --prefix tests/e2e/web/axe)",
        )
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (each with its rule, help and targets)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_script())
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))",
        TAGS,
    )
    return found


def assert_accessible(page: Any, where: str) -> None:
    """No axe violation on `page`; the message lists each rule and where it fails."""
    found = violations(page)
    assert not found, f"{where}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in found
    )
