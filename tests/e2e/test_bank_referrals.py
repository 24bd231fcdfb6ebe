"""End to end: enterprises apply, the real worker (``xinyi worker``, a separate process) delivers the
signed referrals to the reference bank receiver (a real HTTP server on loopback), which fetches each
report from the platform (uvicorn on loopback) and posts its decision.

Reliability: the worker is killed in the middle of a delivery and started again; every referral is still
delivered and the receiver applies each one exactly once (it dedupes by webhook-id).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from xinyi_partner import PartnerClient
from xinyi_partner.bank import Answer, BankReceiver, CreditPolicy, serve

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.loans.models import LoanReferral
from app.main import create_app
from app.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.helpers import process_env
from tests.loans import helpers
from tests.passes import helpers as pass_helpers

VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def platform_url(settings: Settings, store: KeyValueStore) -> Iterator[str]:
    """The platform served by uvicorn on 127.0.0.1 (what the bank's receiver calls)."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, store=store), host="127.0.0.1", port=0, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _worker_env(settings: Settings) -> dict[str, str]:
    env = process_env(settings)
    env.update(
        XINYI_WEBHOOK_TIMEOUT_SECONDS="2",  # lease: 2 × 2 + 5 = 9 s
        XINYI_WEBHOOK_BACKOFF_BASE_SECONDS="0.5",
        XINYI_WEBHOOK_BACKOFF_MAX_SECONDS="2",
    )
    return env


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(  # noqa: S603 (our own venv's xinyi, fixed arguments)
        [str(VENV_BIN / "xinyi"), "worker", "--tick", "0.2"],
        env=_worker_env(settings),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def wait_for(check: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: nothing after {within} s")
        time.sleep(0.05)


class StallingReceiver(BankReceiver):
    """Holds the first delivery it gets until told to go on (so the worker can be killed meanwhile)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived = threading.Event()
        self.go_on = threading.Event()
        self.first_id: str | None = None
        self.received: list[tuple[str, int]] = []

    def handle(self, body: bytes, headers: dict[str, str]) -> Answer:
        msg_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id", "")
        if self.first_id is None:
            self.first_id = msg_id
            self.arrived.set()
            self.go_on.wait(30)
        answer = super().handle(body, headers)
        self.received.append((msg_id, answer.status))
        return answer


def _setup_bank(live: TestClient, engine: Engine, receiver_url: str) -> tuple[dict[str, Any], str]:
    with Session(engine, expire_on_commit=False) as session:
        bank = pass_helpers.partner(session, "bank", name=f"e2e银行 {uuid.uuid4().hex[:6]}")
    helpers.product(live, bank)
    response = live.post("/v1/partner/webhook-endpoints", json={"url": receiver_url}, headers=bank["headers"])
    assert response.status_code == 201, response.text
    bank["key"] = bank["headers"]["Authorization"].removeprefix("Bearer ")
    return bank, response.json()["secret"]


def test_referrals_reach_the_bank_receiver_once_each_even_when_the_worker_is_killed_mid_delivery(
    live: TestClient, committed_engine: Engine, settings: Settings, sms: RecordingSender, platform_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    # given the reference bank receiver, listening on loopback, with a secret the platform shares
    client = PartnerClient(platform_url, api_key="xyk_placeholder")
    receiver = StallingReceiver(
        client, "whsec_" + "A" * 43 + "=", tmp_path / "bank", policy=CreditPolicy(min_level="B")
    )
    with serve(receiver) as receiver_url:
        bank, secret = _setup_bank(live, committed_engine, receiver_url)
        receiver.client = PartnerClient(platform_url, api_key=bank["key"])
        receiver.verifier = type(receiver.verifier)(secret)

        # and three enterprises that apply to it
        applications = []
        for _ in range(3):
            firm = helpers.enterprise(live, sms)
            response = helpers.apply(live, firm, [bank["id"]])
            assert response.status_code == 201, response.text
            applications.append((firm, response.json()))
        referral_ids = {a["referrals"][0]["id"] for _, a in applications}

        # when the worker starts and is killed while the receiver holds the first delivery
        log = tmp_path / "worker.log"
        worker = start_worker(settings, log)
        try:
            assert receiver.arrived.wait(30), log.read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        receiver.go_on.set()  # the receiver applies what it got; the dead worker never hears the answer

        # and is started again
        worker = start_worker(settings, log)
        try:

            def all_delivered() -> bool:
                with Session(committed_engine) as session:
                    rows = session.exec(
                        select(WebhookDelivery).where(WebhookDelivery.partner_id == bank["id"])
                    ).all()
                    return len(rows) == 3 and all(d.status == "succeeded" for d in rows)

            wait_for(all_delivered, 60, "every delivery succeeded")
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()

    # then every referral was decided exactly once, by the receiver
    assert sorted(r for r, _ in receiver.decisions) == sorted(referral_ids)
    assert [outcome for _, _, outcome in receiver.seen.all_applied()].count("approved") == 3
    # the interrupted delivery was sent again with the same webhook-id and answered as a duplicate
    assert (receiver.first_id, 200) in receiver.received
    assert [status for msg_id, status in receiver.received if msg_id == receiver.first_id].count(200) >= 1
    with Session(committed_engine) as session:
        referrals = session.exec(select(LoanReferral).where(col(LoanReferral.id).in_(referral_ids))).all()
        assert {r.status for r in referrals} == {"approved"}
        assert all(r.report_fetches == 1 for r in referrals)
        first = session.exec(
            select(WebhookDelivery).where(WebhookDelivery.event_id == receiver.first_id)
        ).one()
        attempts = session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == first.id)
            .order_by(col(WebhookAttempt.number))
        ).all()
        assert [a.outcome for a in attempts] == ["interrupted", "succeeded"]

    # and each enterprise sees the bank's decision and the fetch of its report
    for firm, application in applications:
        view = live.get(
            f"/v1/enterprises/{firm['id']}/loan-applications/{application['id']}", headers=firm["headers"]
        ).json()
        (referral,) = view["referrals"]
        assert referral["status"] == "approved" and len(referral["report_accesses"]) == 1


def test_the_receiver_refuses_stale_forged_and_replayed_deliveries(
    live: TestClient, committed_engine: Engine, settings: Settings, sms: RecordingSender, platform_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    from xinyi_partner.webhooks import sign

    bank, secret = _setup_bank(live, committed_engine, "https://bank.example/unused")
    receiver = BankReceiver(
        PartnerClient(platform_url, api_key=bank["key"]),
        secret,
        tmp_path / "bank",
        policy=CreditPolicy(min_level="B"),
    )
    firm = helpers.enterprise(live, sms)
    application = helpers.apply(live, firm, [bank["id"]]).json()
    referral_id = application["referrals"][0]["id"]
    body = json.dumps({"type": "referral.created", "data": {"referral_id": referral_id}}).encode()

    def headers(msg_id: str, timestamp: int, key: str = secret) -> dict[str, str]:
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(key, msg_id, timestamp, body),
        }

    now = int(time.time())
    assert receiver.handle(body, headers("msg_stale", now - 301)).body == {
        "error": "webhook_timestamp_too_old"
    }
    forged = "whsec_" + "B" * 43 + "="
    assert receiver.handle(body, headers("msg_forged", now, forged)).body == {
        "error": "webhook_invalid_signature"
    }
    assert receiver.decisions == []

    first = receiver.handle(body, headers("msg_1", now))
    replay = receiver.handle(body, headers("msg_1", now))
    assert (first.status, first.body["outcome"]) == (200, "approved")
    assert (replay.status, replay.body) == (200, {"status": "duplicate"})
    assert len(receiver.decisions) == 1

    # after the enterprise withdraws its consent, a bank that had not fetched yet gets nothing
    other_firm = helpers.enterprise(live, sms)
    other = helpers.apply(live, other_firm, [bank["id"]]).json()
    withdrawn = live.post(f"/v1/me/consents/{other['consent']['id']}/withdraw", headers=other_firm["headers"])
    assert withdrawn.status_code == 200
    body = json.dumps(
        {"type": "referral.created", "data": {"referral_id": other["referrals"][0]["id"]}}
    ).encode()
    answer = receiver.handle(body, headers("msg_2", int(time.time())))
    assert answer.body == {"status": "applied", "outcome": "consent_withdrawn"}
    assert len(receiver.decisions) == 1
