"""Passes issued and verified while records are imported, all at once over HTTP with real commits: the
paths that share the database most. On the external leg this runs on PostgreSQL; in CI's PgBouncer leg
(.ci/run: transaction mode, so each transaction may get another server connection) through PgBouncer,
where a prepared statement kept on a connection breaks (``prepared statement … already exists``)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.core.sms import RecordingSender
from app.records.models import CreditRecord
from app.verifications.models import Verification
from tests.clock import days_ago
from tests.passes import helpers

RESIDENTS = 8
SCANS_EACH = 6  # each resident shows a fresh pass this many times; each pass is scanned once
BATCHES = 8
IN_FLIGHT = 12  # requests at once (see IN_FLIGHT in tests/passes/test_live.py)


def committed_partner(engine: Engine, kind: str) -> dict[str, Any]:
    with Session(engine, expire_on_commit=False) as session:
        return helpers.partner(session, kind)


def test_passes_scans_and_imports_at_once_all_succeed_and_all_land(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    residents = [helpers.resident(live, sms) for _ in range(RESIDENTS)]
    merchant = committed_partner(committed_engine, "merchant")
    provider = committed_partner(committed_engine, "data_provider")
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def outcome(label: str, status: int, text: str) -> None:
        with lock:
            statuses[f"{label} {status}" if status != 500 else f"{label} 500 {text[:200]}"] += 1

    def show_and_scan(holder: dict[str, Any]) -> None:
        issued = live.post("/v1/me/passes", headers=holder["headers"])
        outcome("pass", issued.status_code, issued.text)
        if issued.status_code == 201:
            scanned = helpers.verify(live, merchant, issued.json()["token"])
            outcome("scan", scanned.status_code, scanned.text)

    def import_batch(batch: int) -> None:
        rows = [
            {
                "source_record_id": f"honour-{uuid.uuid4().hex[:12]}",
                "category": "honour",
                "id_number": holder["id_number"],
                "decision_date": days_ago(30 + batch).isoformat(),
            }
            for holder in residents
        ]
        landed = live.post(
            "/v1/records/batches",
            json={"records": rows},
            headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
        )
        outcome("import", landed.status_code, landed.text)

    work: list[Callable[[], None]] = [
        *(lambda holder=holder: show_and_scan(holder) for holder in residents * SCANS_EACH),
        *(lambda batch=batch: import_batch(batch) for batch in range(BATCHES)),
    ]
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        for future in [pool.submit(job) for job in work]:
            future.result(timeout=120)

    scans = RESIDENTS * SCANS_EACH
    assert statuses == {"pass 201": scans, "scan 201": scans, "import 201": BATCHES}
    subjects = [holder["subject_id"] for holder in residents]
    with Session(committed_engine) as session:
        recorded = session.exec(
            select(func.count()).select_from(Verification).where(col(Verification.subject_id).in_(subjects))
        ).one()
        imported = session.exec(
            select(func.count()).select_from(CreditRecord).where(col(CreditRecord.subject_id).in_(subjects))
        ).one()
    assert (recorded, imported) == (scans, RESIDENTS * BATCHES)
