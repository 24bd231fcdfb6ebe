"""An operator reads a PDF proof inside the console: its pages drawn by the vendored PDF.js, page by page,
with the download kept; a file that is not a PDF says so and can still be downloaded. Nothing is fetched
from another origin and the page's Content-Security-Policy holds throughout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect
from sqlalchemy import Engine

from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import resident_with_repair, sign_in_to_console, staff
from tests.rights.helpers import PAGE_COLOURS, pdf_chinese_text

DESKTOP = {"width": 1280, "height": 800}

# Share of the drawn page's pixels in each page colour (within a small tolerance for anti-aliasing)
COLOUR_SHARES = """(canvas, colours) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const counts = colours.map(() => 0);
  for (let i = 0; i < data.length; i += 4) {
    colours.forEach(([r, g, b], k) => {
      if (Math.abs(data[i] - r) <= 3 && Math.abs(data[i + 1] - g) <= 3 && Math.abs(data[i + 2] - b) <= 3) counts[k] += 1;
    });
  }
  return counts.map((n) => Math.round((100 * n) / (data.length / 4)));
}"""


class Watch:
    """Every request that is not to the local server is blocked and kept; every CSP violation is kept."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.outside = helpers.outside_requests(context)
        self.violations: list[str] = []
        page.on("console", self._note)

    def _note(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)


ViewProof = Callable[..., Watch]


@pytest.fixture
def view_proof(
    page: Page,
    context: BrowserContext,
    sms: RecordingSender,
    live_server: LiveServer,
    committed_engine: Engine,
    settings: Settings,
) -> ViewProof:
    """``view_proof(pdf)``: a repair application with ``pdf`` as its proof (缴款凭证.pdf, two pages unless
    given), opened by an operator in the console, its proof viewed. Returns what the page was watched for."""

    def view(proof_pdf: bytes | None = None) -> Watch:
        with helpers.api_client(live_server.url) as http:
            repair = resident_with_repair(http, committed_engine, sms, proof_pdf=proof_pdf)["repair"]
        watch = Watch(context, page)
        page.set_viewport_size(DESKTOP)
        sign_in_to_console(page, sms, staff(committed_engine, settings, "operator"))
        page.goto(f"/console#/repairs/{repair['id']}")
        expect(page.get_by_text("已足额缴纳罚款并完成整改。")).to_be_visible()
        page.get_by_role("button", name="查看").click()
        return watch

    return view


def _shares(canvas: Locator) -> list[int]:
    return list(canvas.evaluate(COLOUR_SHARES, [list(c) for c in PAGE_COLOURS[:2]]))


def test_an_operator_reads_a_pdf_proof_page_by_page_in_the_console(page: Page, view_proof: ViewProof) -> None:
    # given a repair application with a two-page PDF as proof (page 1 red, page 2 blue), when the operator
    # opens it and views the proof
    watch = view_proof()

    # then page 1 of 2 is drawn: about a third of it is page 1's red block, none of it page 2's blue
    expect(page.get_by_text("1 / 2", exact=True)).to_be_visible()
    first = page.get_by_role("img", name="缴款凭证.pdf 第 1 页，共 2 页")
    expect(first).to_be_visible()
    red, blue = _shares(first)
    assert (30 <= red <= 40, blue) == (True, 0)
    # drawn at the card's width (fit to width), in the page's proportions (A4)
    box = first.bounding_box()
    assert box is not None and abs(box["height"] / box["width"] - 842 / 595) < 0.01
    expect(page.get_by_role("button", name="上一页")).to_be_disabled()

    # when they go to the next page, page 2 is drawn instead, and there is no page after it
    page.get_by_role("button", name="下一页").click()
    expect(page.get_by_text("2 / 2", exact=True)).to_be_visible()
    second = page.get_by_role("img", name="缴款凭证.pdf 第 2 页，共 2 页")
    red, blue = _shares(second)
    assert (red, 30 <= blue <= 40) == (0, True)
    expect(page.get_by_role("button", name="下一页")).to_be_disabled()
    page.get_by_role("button", name="上一页").click()
    expect(page.get_by_text("1 / 2", exact=True)).to_be_visible()

    # and the file can still be downloaded as it was sent
    with page.expect_download() as saved:
        page.get_by_role("link", name="下载 缴款凭证.pdf（PDF）").click()
    assert saved.value.suggested_filename == "缴款凭证.pdf"
    assert (watch.outside, watch.violations) == ([], [])


def test_a_proof_that_cannot_be_read_as_a_pdf_says_so_and_can_still_be_downloaded(
    page: Page, view_proof: ViewProof
) -> None:
    # given a proof that starts and ends like a PDF (the upload accepts it) with nothing readable between
    broken = b"%PDF-1.7\n% no objects, no cross-reference table: nothing a reader can draw\n%%EOF\n"
    watch = view_proof(broken)

    expect(page.get_by_role("alert")).to_have_text(
        "无法显示 缴款凭证.pdf：文件无法解析为 PDF（可能已损坏或加密）。仍可下载后查看。"
    )
    expect(page.get_by_role("img", name="缴款凭证.pdf", exact=False)).to_have_count(0)
    with page.expect_download() as saved:
        page.get_by_role("link", name="下载 缴款凭证.pdf（PDF）").click()
    assert saved.value.suggested_filename == "缴款凭证.pdf"
    assert Path(saved.value.path()).read_bytes() == broken
    assert (watch.outside, watch.violations) == ([], [])


def test_when_the_viewer_cannot_load_the_page_blames_the_network_not_the_file(
    page: Page, context: BrowserContext, view_proof: ViewProof
) -> None:
    # the viewer's script does not arrive (the connection drops as it is fetched)
    context.route("**/pdfjs-dist-*/pdf.min.mjs", lambda route: route.abort())
    view_proof()

    expect(page.get_by_role("alert")).to_have_text("网络不可用，请检查网络后重试。")
    expect(page.get_by_role("link", name="下载 缴款凭证.pdf（PDF）")).to_be_visible()


DARK_SHARE = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let dark = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 100 && data[i + 1] < 100 && data[i + 2] < 100) dark += 1;
  return (100 * dark) / (data.length / 4);
}"""


def test_chinese_text_in_a_font_the_pdf_does_not_embed_is_drawn(page: Page, view_proof: ViewProof) -> None:
    # given a proof whose title is in STSong-Light, not embedded, encoded with the UniGB-UCS2-H CMap (as
    # iText makes official documents)
    cmaps: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: cmaps.append((r.url.rsplit("/", 1)[-1], r.status)) if r.url.endswith(".bcmap") else None,
    )
    watch = view_proof(pdf_chinese_text())

    # then the page is drawn with its text: the CMaps (the encoding's, and GB1's to Unicode) came from this
    # server's vendored copy
    expect(page.get_by_text("1 / 1", exact=True)).to_be_visible()
    drawn = page.get_by_role("img", name="缴款凭证.pdf 第 1 页，共 1 页")
    assert drawn.evaluate(DARK_SHARE) > 0.2
    assert sorted(cmaps) == [("Adobe-GB1-UCS2.bcmap", 200), ("UniGB-UCS2-H.bcmap", 200)]
    assert (watch.outside, watch.violations) == ([], [])
