"""``make screens``: a screenshot of each main screen, on a phone (360×640; the statistics page and the
console on a desktop), into docs/screens/.

A fresh service (tests/browser/world.py: its own SQLite database, the app on a free port, Debian's
chromium) and the people of each scene made through the API, as in the browser tests.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from scripts.screens_console import bank_console_scenes, console_scenes
from scripts.screens_resident import resident_scenes
from tests.browser import helpers
from tests.browser.world import World, world
from tests.passes import helpers as passes

OUT = Path(__file__).resolve().parents[1] / "docs" / "screens"
DESKTOP = {"width": 1280, "height": 800}


def scan_scenes(w: World, out: Path) -> list[Path]:
    """The scanner's results: eligible, not eligible (black-listed), already used, offline."""
    browser = w.browser()
    merchant = w.merchant()
    context = w.context(browser)
    page = w.scanner(context, merchant)
    verdict = page.locator("#result-verdict")
    shots = []

    def shot(name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    def next_scan() -> None:
        page.get_by_role("button", name="继续扫码").click()

    holder = w.resident()
    token = passes.issue(w.http, holder)["token"]  # type: ignore[arg-type]
    helpers.scan_by_hand(page, token)
    expect(verdict).to_have_text("✓ 符合条件")
    shot("scan-eligible")

    next_scan()
    helpers.scan_by_hand(page, token)
    expect(verdict).to_have_text("已使用")
    shot("scan-already-used")

    refused = w.resident()
    helpers.black_list(w.http, w.engine, refused)
    next_scan()
    helpers.scan_by_hand(page, passes.issue(w.http, refused)["token"])  # type: ignore[arg-type]
    expect(verdict).to_have_text("✗ 不符合条件")
    shot("scan-not-eligible")

    codes = w.http.post(
        "/v1/me/passes/offline",
        json={"scenario": "deposit_free_rental", "count": 1},
        headers=holder["headers"],
    )
    codes.raise_for_status()
    context.set_offline(True)
    next_scan()
    helpers.scan_by_hand(page, codes.json()["data"][0]["token"])
    expect(verdict).to_have_text("✓ 符合条件（离线核验）")
    shot("scan-offline")
    context.close()
    browser.close()
    return shots


def stats_scenes(w: World, out: Path) -> list[Path]:
    """The public statistics page on a desktop, after the scans of the scenes before it."""
    browser = w.browser()
    context = w.context(browser, viewport=DESKTOP)
    page = context.new_page()
    page.goto("/stats")
    expect(page.locator("#stats")).to_have_attribute("data-charts", "ready")
    path = out / "stats.png"
    page.screenshot(path=str(path), full_page=True)
    context.close()
    browser.close()
    return [path]


SCENES: list[Callable[[World, Path], list[Path]]] = [
    resident_scenes,
    scan_scenes,
    stats_scenes,
    console_scenes,
    bank_console_scenes,
]


def ensure_cjk_font() -> None:
    """Without a Chinese font every label is a row of boxes in the pictures."""
    fc_list = shutil.which("fc-list")
    found = (
        subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)  # noqa: S603
        if fc_list
        else None
    )
    if found is None or not found.stdout.strip():
        raise SystemExit("make screens needs a Chinese font: apt-get install -y fonts-wqy-microhei")


def main() -> None:
    ensure_cjk_font()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with world() as w:
        for scene in SCENES:
            for path in scene(w, args.out):
                print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


if __name__ == "__main__":
    main()
