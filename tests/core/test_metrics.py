"""/metrics: Prometheus text behind a bearer token, and the series an operator watches move after real
requests (requests by route template, passes, verifications, webhook outbox, job lag)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.clock import utcnow
from app.core.principal import Principal
from app.core.security import Crypto
from app.jobs import service as jobs_service
from app.main import create_app
from app.partners import service as partners_service
from app.webhooks import service as webhooks_service
from app.webhooks.models import WebhookDelivery
from tests.passes import helpers as passes

SETUP = Principal(type="system", id="test-setup")
TOKEN = "metrics-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def watched(settings, store, sms, committed_engine: Engine) -> Iterator[TestClient]:
    """The app on its own engine, every request committing: /metrics reads what other processes see."""
    app = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}), store=store, sms_sender=sms
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_served_only_with_the_token(client: TestClient, watched: TestClient) -> None:
    off = client.get("/metrics", headers=AUTH)  # no token configured: not served at all
    assert off.status_code == 404
    assert "XINYI_METRICS_TOKEN" in off.json()["detail"]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = watched.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "xinyi_" not in refused.text


def test_the_series_move_after_real_requests(watched: TestClient, sms, committed_engine: Engine) -> None:
    holder = passes.resident(watched, sms)
    with Session(committed_engine) as session:
        merchant = passes.partner(session, "merchant")
    before = scrape(watched)

    token = passes.issue(watched, holder)["token"]
    verified = passes.verify(watched, merchant, token)
    assert verified.status_code == 201
    assert (
        watched.get(f"/v1/me/passes/pas_{uuid.uuid4().hex[:12]}.svg", headers=holder["headers"]).status_code
        == 404
    )
    assert watched.get("/no/such/page").status_code == 404
    after = scrape(watched)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("xinyi_passes_issued_total", kind="online") == 1
    decision = verified.json()["decision"]
    assert moved("xinyi_verifications_total", scenario="deposit_free_rental", decision=decision) == 1
    assert moved("xinyi_http_requests_total", method="POST", route="/v1/me/passes", status="201") == 1
    assert moved("xinyi_http_requests_total", method="POST", route="/v1/verifications", status="201") == 1
    # Labels are route templates, never a path with an id in it.
    assert (
        moved("xinyi_http_requests_total", method="GET", route="/v1/me/passes/{pass_id}.svg", status="404")
        == 1
    )
    assert moved("xinyi_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert moved("xinyi_http_request_duration_seconds_count", method="POST", route="/v1/verifications") == 1
    assert not any("pas_" in dict(labels).get("route", "") for _, labels in after)
    assert value(after, "xinyi_db_pool_connections_in_use") >= 0


def test_the_webhook_outbox_and_the_jobs_lag_are_read_from_the_database(
    watched: TestClient, committed_engine: Engine, settings
) -> None:
    now = utcnow()
    # A referral waiting for its bank for two hours (not due again for a day: no worker in the suite
    # takes it meanwhile).
    with Session(committed_engine, expire_on_commit=False) as session:
        bank = partners_service.create_partner(session, SETUP, f"观测银行 {uuid.uuid4().hex[:6]}", "bank")
        webhooks_service.create_endpoint(
            session,
            Crypto(settings).cipher,
            settings,
            Principal(type="partner", id=bank.id, partner_kind="bank"),
            url="https://bank.example/hooks",
            description=None,
            event_types=None,
        )
        event = webhooks_service.emit(
            session, bank.id, "referral.created", {"referral_id": "ref_m"}, now - timedelta(hours=2)
        )
        delivery = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()
        delivery.next_attempt_at = now + timedelta(days=1)
        session.commit()
    job = f"test.metrics_{uuid.uuid4().hex[:8]}"
    jobs_service.record_run(committed_engine, job, timedelta(minutes=1), now - timedelta(minutes=10), True)

    samples = scrape(watched)
    assert value(samples, "xinyi_webhook_outbox_depth") >= 1
    assert value(samples, "xinyi_webhook_outbox_oldest_age_seconds") >= 2 * 3600
    lag = value(samples, "xinyi_job_lag_seconds", job=job)
    assert 9 * 60 <= lag <= 9 * 60 + 120  # ten minutes since a run due every minute


def test_a_recorded_run_keeps_the_newest(committed_engine: Engine) -> None:
    job = f"test.newest_{uuid.uuid4().hex[:8]}"
    now = utcnow()
    jobs_service.record_run(committed_engine, job, timedelta(seconds=30), now, True)
    jobs_service.record_run(committed_engine, job, timedelta(seconds=30), now - timedelta(minutes=5), False)
    lags = jobs_service.lags(committed_engine, now + timedelta(seconds=40))
    assert lags[job] == pytest.approx(10, abs=0.01)


def test_the_exposition_names_every_watched_series(watched: TestClient) -> None:
    text = watched.get("/metrics", headers=AUTH).text
    for name in (
        "xinyi_http_requests_total",
        "xinyi_http_request_duration_seconds_bucket",
        "xinyi_webhook_outbox_depth",
        "xinyi_webhook_outbox_oldest_age_seconds",
        "xinyi_db_pool_connections_in_use",
    ):
        assert re.search(rf"^{name}[{{ ]", text, re.M), name
    for family in ("xinyi_verifications_total", "xinyi_passes_issued_total", "xinyi_sms_sent_total",
                   "xinyi_sms_failures_total", "xinyi_db_errors_total", "xinyi_redis_errors_total",
                   "xinyi_job_lag_seconds"):  # fmt: skip
        assert f"# TYPE {family} " in text, family


def test_with_the_database_unreadable_the_process_series_are_still_served(
    watched: TestClient, tmp_path
) -> None:
    from sqlalchemy import create_engine

    state = watched.app.state  # type: ignore[attr-defined]
    healthy, state.engine = state.engine, create_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    try:
        before = scrape(watched)
        samples = scrape(watched)
    finally:
        state.engine.dispose()
        state.engine = healthy
    assert value(samples, "xinyi_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    assert ("xinyi_webhook_outbox_depth", ()) not in samples
    assert value(samples, "xinyi_db_errors_total", error="OperationalError") == (
        value(before, "xinyi_db_errors_total", error="OperationalError") + 1
    )
