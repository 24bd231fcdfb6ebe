"""``GET /v1/stats/scenarios``: scenario usage by scenario and by month in China, for anyone, with nothing
that names a resident, a pass or a partner."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient

from tests.clock import PINNED
from tests.helpers import refresh
from tests.passes.helpers import issue, verify

# 00:30 on the 1st in China is still the last day of the month in UTC.
_NEXT_MONTH_IN_CHINA = datetime(PINNED.year, PINNED.month, 30, 16, 30, tzinfo=PINNED.tzinfo)


def _usage(body: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """(month, scenario) -> (scans, eligible), with ("all", scenario) for the totals by scenario."""
    out = {("all", s["scenario"]): (s["scans"], s["eligible"]) for s in body["by_scenario"]}
    for month in body["by_month"]:
        for s in month["by_scenario"]:
            out[(month["month"], s["scenario"])] = (s["scans"], s["eligible"])
    return out


def _delta(after: dict[tuple[str, str], tuple[int, int]], before: dict[tuple[str, str], tuple[int, int]]):
    changed = {}
    for key, (scans, eligible) in after.items():
        was = before.get(key, (0, 0))
        if (scans, eligible) != was:
            changed[key] = (scans - was[0], eligible - was[1])
    return changed


def test_scans_are_counted_by_scenario_and_by_month_in_china_for_anyone(
    client: TestClient,
    pinned_clock: time_machine.TimeMachineFixture,
    holder: dict[str, Any],
    merchant: dict[str, Any],
) -> None:
    before = client.get("/v1/stats/scenarios").json()
    # a resident at level B: eligible for a deposit-free rental, not for travel (level A)
    assert verify(client, merchant, issue(client, holder)["token"]).json()["decision"] == "eligible"
    assert (
        verify(client, merchant, issue(client, holder)["token"], "travel").json()["decision"]
        == "not_eligible"
    )
    pinned_clock.move_to(_NEXT_MONTH_IN_CHINA, tick=True)
    refresh(client, holder)
    assert verify(client, merchant, issue(client, holder)["token"]).json()["decision"] == "eligible"

    response = client.get("/v1/stats/scenarios")

    assert response.status_code == 200
    after = response.json()
    assert after["object"] == "scenario_statistics"
    month, next_month = PINNED.strftime("%Y-%m"), (PINNED + timedelta(days=10)).strftime("%Y-%m")
    assert _delta(_usage(after), _usage(before)) == {
        ("all", "deposit_free_rental"): (2, 2),
        ("all", "travel"): (1, 0),
        (month, "deposit_free_rental"): (1, 1),
        (month, "travel"): (1, 0),
        (next_month, "deposit_free_rental"): (1, 1),
    }
    assert (
        after["totals"]["scans"] - before["totals"]["scans"],
        after["totals"]["eligible"] - before["totals"]["eligible"],
    ) == (3, 2)
    # every scenario of the catalog is listed, in catalog order, with its names
    catalog = client.get("/v1/scenarios").json()["data"]
    assert [(s["scenario"], s["name_zh"], s["name_en"]) for s in after["by_scenario"]][: len(catalog)] == [
        (s["id"], s["name_zh"], s["name_en"]) for s in catalog
    ]
    text = json.dumps(after)
    assert holder["subject_id"] not in text and merchant["id"] not in text and holder["id_number"] not in text
