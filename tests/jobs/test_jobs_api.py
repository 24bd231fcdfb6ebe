"""``GET /v1/admin/jobs``: the scheduled jobs' health, for operators only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from app.jobs.models import JobRun
from tests.helpers import make_phone, sign_in, sign_in_with_role


def test_an_operator_sees_each_jobs_latest_run_and_lag(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given a job on time and one ten minutes behind its one-minute schedule, whose latest run failed
    now = utcnow()
    on_time, late = f"test.on_time_{uuid.uuid4().hex[:6]}", f"test.late_{uuid.uuid4().hex[:6]}"
    db.add(JobRun(name=on_time, every_seconds=3600, last_run_at=now - timedelta(minutes=5), last_ok=True))
    db.add(JobRun(name=late, every_seconds=60, last_run_at=now - timedelta(minutes=10), last_ok=False))
    db.flush()
    headers = sign_in_with_role(client, sms, db, "operator")

    response = client.get("/v1/admin/jobs", headers=headers)

    assert response.status_code == 200, response.text
    jobs = {job["name"]: job for job in response.json()["data"]}
    assert (jobs[on_time]["lag_seconds"], jobs[on_time]["last_ok"], jobs[on_time]["every_seconds"]) == (
        0,
        True,
        3600,
    )
    assert jobs[late]["last_ok"] is False
    assert jobs[late]["lag_seconds"] == pytest.approx(540, abs=5)


@pytest.mark.parametrize("role", ["auditor", None])
def test_only_operators_see_the_jobs(
    client: TestClient, sms: RecordingSender, db: Session, role: str | None
) -> None:
    headers = (
        sign_in_with_role(client, sms, db, role) if role else sign_in(client, sms, make_phone())["headers"]
    )

    response = client.get("/v1/admin/jobs", headers=headers)

    assert (response.status_code, response.json()["code"]) == (403, "role_required")
    assert response.headers["content-type"] == "application/problem+json"
