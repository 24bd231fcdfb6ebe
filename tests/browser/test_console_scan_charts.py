"""The merchant manager's figures as charts: scans per day (eligible stacked on not eligible) and the eligible
rate per scenario, drawn from the API's answer, with the tables below them carrying the same figures; the
rentals by status likewise. Nothing is fetched from another origin."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from app.core.clock import business_date
from app.core.config import Settings
from app.core.sms import RecordingSender
from tests.browser import helpers
from tests.browser.conftest import LiveServer
from tests.browser.console import sign_in_to_console
from tests.browser.members import DESKTOP, member
from tests.passes import helpers as passes

# What the chart shows, read back from ECharts: the categories and each series' values
DRAWN = """(box) => {
  const option = echarts.getInstanceByDom(box).getOption();
  const value = (d) => (d !== null && typeof d === "object" ? d.value : d);
  return { x: option.xAxis[0].data, series: option.series.map((s) => [s.name, s.data.map(value)]) };
}"""
# Whether anything was painted on the chart's canvas (ECharts draws on a transparent one)
PAINTED = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}"""


def _drawn(box: Locator) -> dict[str, Any]:
    expect(box).to_have_attribute("data-drawn", "true")
    canvas = box.locator("canvas")
    expect(canvas).to_have_count(1)
    assert canvas.evaluate(PAINTED) > 0
    return dict(box.evaluate(DRAWN))


def _rows(region: Locator) -> list[list[str]]:
    return [row.get_by_role("cell").all_inner_texts() for row in region.get_by_role("row").all()[1:]]


def _scan(http: Any, merchant: dict[str, Any], holder: dict[str, Any]) -> None:
    response = passes.verify(http, merchant, passes.issue(http, holder)["token"])
    assert response.status_code == 201, response.text


def test_a_merchant_manager_sees_scans_per_day_and_the_eligible_rate_as_charts_over_the_tables(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    # given three scans today: two eligible residents and one on the black list
    merchant = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
    with helpers.api_client(live_server.url) as http:
        for _ in range(2):
            _scan(http, merchant, passes.resident(http, sms))  # type: ignore[arg-type]
        listed = passes.resident(http, sms)  # type: ignore[arg-type]
        helpers.black_list(http, committed_engine, listed)
        _scan(http, merchant, listed)
    outside = helpers.outside_requests(page.context)
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, merchant["id"], "clerk"))

    # when the manager opens the scan statistics
    with page.expect_response(lambda r: "/scan-statistics" in r.url) as answered:
        page.get_by_role("link", name="扫码统计").click()
    stats = answered.value.json()
    today = business_date().isoformat()
    assert (stats["totals"]["scans"], stats["totals"]["eligible"], stats["by_day"][-1]["day"]) == (
        3,
        2,
        today,
    )

    # then the day chart stacks each day's eligible scans on its not eligible ones, oldest day first
    by_day = page.get_by_role("region", name="按日")
    day_chart = _drawn(by_day.get_by_role("img", name="每日扫码次数图（符合与不符合条件），数字见下表"))
    assert day_chart["x"] == [d["day"] for d in stats["by_day"]]
    assert day_chart["series"] == [
        ["符合条件", [d["eligible"] for d in stats["by_day"]]],
        ["不符合条件", [d["scans"] - d["eligible"] for d in stats["by_day"]]],
    ]
    assert (day_chart["series"][0][1][-1], day_chart["series"][1][1][-1]) == (2, 1)
    # and the table below it has the same figures, newest day first
    assert _rows(by_day) == [
        [
            d["day"],
            str(d["scans"]),
            str(d["eligible"]),
            f"{100 * d['eligible'] / d['scans']:.1f}%" if d["scans"] else "—",
        ]
        for d in reversed(stats["by_day"])
    ]
    assert _rows(by_day)[0] == [today, "3", "2", "66.7%"]

    # the scenario chart shows the eligible rate in percent, as the table does
    by_scenario = page.get_by_role("region", name="按场景")
    rate_chart = _drawn(by_scenario.get_by_role("img", name="各场景符合率图，数字见下表"))
    assert rate_chart == {"x": ["信易租"], "series": [["符合率", [66.7]]]}
    assert _rows(by_scenario) == [
        [s["name_zh"], str(s["scans"]), str(s["eligible"]), f"{100 * s['eligible_rate']:.1f}%"]
        for s in stats["by_scenario"]
    ]
    assert _rows(by_scenario) == [["信易租", "3", "2", "66.7%"]]
    assert outside == []


def test_the_rentals_by_status_are_charted_over_their_table(
    page: Page, live_server: LiveServer, committed_engine: Engine, settings: Settings, sms: RecordingSender
) -> None:
    from tests.rentals import helpers as rentals

    # given two deposit-free rentals today, one returned
    merchant = helpers.partner(committed_engine, "merchant", ["verifications:write", "rentals:write"])
    with helpers.api_client(live_server.url) as http:
        opened = []
        for _ in range(2):
            holder = rentals.resident(http, sms)  # type: ignore[arg-type]
            verification = rentals.verification(http, holder, merchant)  # type: ignore[arg-type]
            rental = rentals.open_rental(http, merchant, verification["id"])  # type: ignore[arg-type]
            assert rental.status_code == 201, rental.text
            opened.append(rental.json()["id"])
        back = http.post(
            f"/v1/rentals/{opened[0]}/return", headers={**merchant["headers"], "Idempotency-Key": opened[0]}
        )
        assert back.status_code == 200, back.text
    page.set_viewport_size(DESKTOP)
    sign_in_to_console(page, sms, member(committed_engine, settings, merchant["id"], "clerk"))

    page.get_by_role("link", name="租赁").click()
    figures = page.get_by_role("region", name="租赁概况（按开始日期）")
    chart = _drawn(figures.get_by_role("img", name="按状态的租赁数量图，数字见下表"))
    assert chart == {"x": ["租赁中", "已归还"], "series": [["数量", [1, 1]]]}
    assert _rows(figures) == [["租赁中", "1"], ["已归还", "1"]]
