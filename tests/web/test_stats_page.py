"""/stats: the public statistics page, readable without script; its figures are the public API's."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from tests.core.test_errors import assert_problem


class _Figures(HTMLParser):
    """The page's figures: ``data-figure`` values and the scenario table's rows."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.scenarios: dict[str, list[str]] = {}
        self._figure: str | None = None
        self._scenario: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "dd" and found.get("data-figure"):
            self._figure = found["data-figure"]
        if tag == "tr" and found.get("data-scenario"):
            self._scenario = found["data-scenario"]
            self.scenarios[self._scenario] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "dd":
            self._figure = None
        if tag == "tr":
            self._scenario = None

    def handle_data(self, data: str) -> None:
        if self._figure:
            self.figures[self._figure] = data.strip()
        elif self._scenario and data.strip():
            self.scenarios[self._scenario].append(data.strip())


def _read(html: str) -> _Figures:
    parser = _Figures()
    parser.feed(html)
    return parser


def test_the_statistics_page_shows_the_public_apis_figures_in_chinese(client: TestClient) -> None:
    response = client.get("/stats")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<html lang="zh-CN">' in response.text
    assert re.findall(r"<script\b[^>]*>", response.text) == [
        '<script src="/static/vendor/echarts-6.1.0/echarts.common.min.js" defer>',
        '<script src="/static/stats/stats.js" defer>',
    ]
    assert " style=" not in response.text
    loans = client.get("/v1/stats/xinyidai").json()["totals"]
    usage = client.get("/v1/stats/scenarios").json()
    page = _read(response.text)
    assert page.figures == {
        "subjects_rated": str(loans["subjects_rated"]),
        "reports_generated": str(loans["reports_generated"]),
        "applications": str(loans["applications"]),
        "referrals": str(loans["referrals"]),
        "approvals": str(loans["approvals"]),
        "declines": str(loans["declines"]),
        "approved_amount_fen": f"{loans['approved_amount_fen'] / 100:,.2f}",
        "scans": str(usage["totals"]["scans"]),
        "eligible": str(usage["totals"]["eligible"]),
    }
    assert page.scenarios == {
        s["scenario"]: [s["name_zh"], str(s["scans"]), str(s["eligible"])] for s in usage["by_scenario"]
    }
    assert "信易贷" in response.text and 'href="/stats?lang=en"' in response.text


def test_the_statistics_page_in_english(client: TestClient) -> None:
    response = client.get("/stats", params={"lang": "en"})

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "<h1>Xinyi+ public statistics</h1>" in response.text
    usage = client.get("/v1/stats/scenarios").json()
    assert _read(response.text).scenarios == {
        s["scenario"]: [s["name_en"], str(s["scans"]), str(s["eligible"])] for s in usage["by_scenario"]
    }


def test_an_unknown_language_is_refused_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/stats", params={"lang": "fr"})

    assert_problem(response, 422, "invalid_request", param="lang")


def test_the_charts_script_and_library_are_served_from_this_origin(client: TestClient) -> None:
    for path in ("/static/stats/stats.js", "/static/vendor/echarts-6.1.0/echarts.common.min.js"):
        response = client.get(path)
        assert (response.status_code, response.headers["content-type"].split(";")[0]) == (
            200,
            "text/javascript",
        )
    assert client.get("/static/vendor/echarts-6.1.0/LICENSE").status_code == 200
