"""Screenshots of the resident app's main screens (home, pass) at 360x640 into docs/screens/, on a fresh
throwaway app: ``python -m scripts.screens_resident`` (``make screens``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from app.core.sms import RecordingSender
from benchmarks.bench_web_resident import serve_fresh_app, sign_in_and_bind

OUT = Path(__file__).resolve().parents[1] / "docs" / "screens"


def capture(page: Page, sms: RecordingSender, out: Path = OUT) -> list[Path]:
    """Sign in on ``page`` (at /app of a fresh app) and save the home and pass screens."""
    out.mkdir(parents=True, exist_ok=True)
    page.goto("/app")
    sign_in_and_bind(page, sms)
    page.get_by_text("如何提升").wait_for()
    home = out / "resident-home.png"
    page.screenshot(path=str(home))
    page.get_by_role("main").get_by_role("link", name="出示信用码").click()
    page.wait_for_function(
        """() => { const img = document.querySelector('img[alt="信用码"]');
                   return img && img.complete && img.naturalWidth > 0; }"""
    )
    page.get_by_text("秒后失效").wait_for()
    shown = out / "resident-pass.png"
    page.screenshot(path=str(shown))
    return [home, shown]


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Debian's chromium: apt-get install -y chromium")
    sms = RecordingSender()
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_fresh_app(Path(tmp), sms) as url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        context = browser.new_context(base_url=url, viewport={"width": 360, "height": 640}, locale="zh-CN")
        for path in capture(context.new_page(), sms):
            print(f"wrote {path.relative_to(OUT.parents[1])}")
        browser.close()


if __name__ == "__main__":
    main()
