"""axe-core (vendored, tests/browser/vendor) run in a page: the serious and critical violations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = (
    Path(__file__).parent
    / "vendor"
    / json.loads((Path(__file__).parent / "vendor" / "vendored.json").read_text(encoding="utf-8"))[0][
        "directory"
    ]
    / "axe.min.js"
)
SERIOUS = {"serious", "critical"}

_RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations.map(
    (v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" "))}))"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """The page's context must bypass its CSP (``bypass_csp=True``): axe is injected as a script."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(_RUN) if v["impact"] in SERIOUS]
