"""GET /v1/admin/record-batches: operators follow every data provider's batches and file import runs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.clock import days_ago
from tests.records.helpers import csv_text, make_partner_key, new_id_number, penalty, post_batch


def upload(client: TestClient, provider: dict[str, Any], name: str, *rows: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/v1/records/files",
        files={"file": (name, csv_text(*rows).encode(), "text/csv")},
        headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    return response.json()


def runs(client: TestClient, who: dict[str, Any], **query: str) -> Any:
    return client.get("/v1/admin/record-batches", params=query, headers=who["headers"])


def test_an_operator_sees_each_providers_batches_and_file_runs_with_their_counts(
    client: TestClient, db: Session, provider: dict[str, Any], operator: dict[str, Any]
) -> None:
    # given one provider pushing a batch and another uploading a file with a refused row
    other = make_partner_key(db, name="乌鲁木齐市税务局")
    batch = post_batch(client, provider, [penalty(new_id_number())]).json()
    good = penalty(new_id_number(), decision_date=days_ago(30).isoformat())
    bad = {**penalty(new_id_number()), "decision_date": "2026-13-01"}
    run = upload(client, other, "tax-2026-11.csv", good, bad)

    # when the operator lists them, by provider and by channel
    mine = runs(client, operator, source=provider["id"])
    files = runs(client, operator, source=other["id"], channel="file")
    none_running = runs(client, operator, source=other["id"], status="running")

    # then each shows its source, channel, file and counts
    assert mine.status_code == 200, mine.text
    assert [
        (r["id"], r["channel"], r["file_name"], r["received"], r["created"], r["rejected"])
        for r in mine.json()["data"]
    ] == [(batch["id"], "api", None, 1, 1, 0)]
    assert [
        (r["id"], r["source"], r["file_name"], r["status"], r["received"], r["created"], r["rejected"])
        for r in files.json()["data"]
    ] == [(run["id"], other["id"], "tax-2026-11.csv", "completed", 2, 1, 1)]
    assert none_running.json() == {"object": "list", "data": [], "has_more": False}


def test_only_operators_list_import_runs_and_a_bad_filter_names_its_field(
    client: TestClient, provider: dict[str, Any], operator: dict[str, Any], resident: dict[str, Any]
) -> None:
    assert (runs(client, provider).status_code, runs(client, provider).json()["code"]) == (
        403,
        "user_required",
    )
    assert (runs(client, resident).status_code, runs(client, resident).json()["code"]) == (
        403,
        "role_required",
    )
    refused = runs(client, operator, channel="ftp")
    assert (refused.status_code, refused.json()["param"]) == (422, "channel")
