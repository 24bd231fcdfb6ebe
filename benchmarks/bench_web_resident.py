"""The resident app's budgets (issue #20, section 5), measured on a fresh service (tests/browser/world.py)
by ``make bench-web``:

- first load of /app: every response of the first visit until the sign-in form shows, gzipped (budget
  150 KB); the page loads no WASM (the decoder is the scanner's);
- the pass visible after the tap on 出示信用码 with the CPU throttled 4x (DevTools protocol
  ``Emulation.setCPUThrottlingRate``), from the click to the QR image decoded on screen (budget 1 s), over
  ``taps`` taps: median and worst.
"""

from __future__ import annotations

import gzip
import statistics
import time

from playwright.sync_api import Page

from tests.browser.resident import sign_in_verified
from tests.browser.world import World

FIRST_LOAD_BUDGET_KB = 150
PASS_BUDGET_MS = 1000
CPU_THROTTLE = 4
_QR_SHOWN = """() => { const img = document.querySelector('img[alt="信用码"]');
                      return img && img.complete && img.naturalWidth > 0; }"""


def _first_load(page: Page) -> tuple[int, int, int]:
    """(responses, raw bytes, gzip -9 bytes) of the first visit to /app."""
    bodies: list[bytes] = []
    page.on("response", lambda response: bodies.append(response.body()) if response.ok else None)
    page.goto("/app")
    page.get_by_label("手机号").wait_for()
    page.wait_for_load_state("networkidle")
    return len(bodies), sum(len(b) for b in bodies), sum(len(gzip.compress(b, 9)) for b in bodies)


def _tap_to_pass(page: Page) -> float:
    """Milliseconds from the tap on the home screen's 出示信用码 to the QR on screen."""
    page.goto("/app#/")
    link = page.get_by_role("main").get_by_role("link", name="出示信用码")
    link.wait_for()
    start = time.perf_counter()
    link.click()
    page.wait_for_function(_QR_SHOWN, polling="raf")
    return (time.perf_counter() - start) * 1000


def measure(w: World, taps: int = 7) -> list[str]:
    """The figures as lines to print; raises SystemExit over budget."""
    browser = w.browser()
    try:
        context = w.context(browser)
        page = context.new_page()
        responses, raw, packed = _first_load(page)
        sign_in_verified(page, w.sms)
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": CPU_THROTTLE})
        times = [_tap_to_pass(page) for _ in range(taps)]
    finally:
        browser.close()
    lines = [
        f"/app first load: {responses} responses, {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip -9 "
        f"(budget {FIRST_LOAD_BUDGET_KB} KB)",
        f"/app tap -> pass visible, CPU throttled {CPU_THROTTLE}x, {taps} taps: median "
        f"{statistics.median(times):.0f} ms, worst {max(times):.0f} ms (budget {PASS_BUDGET_MS} ms)",
    ]
    if packed > FIRST_LOAD_BUDGET_KB * 1024 or max(times) > PASS_BUDGET_MS:
        raise SystemExit("over budget:\n" + "\n".join(lines))
    return lines
