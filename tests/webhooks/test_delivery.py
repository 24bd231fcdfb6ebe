"""The outbox delivered: Standard Webhooks signatures, backoff as data, a delivery log per attempt, giving
up after the last attempt, operator replay, secret rotation, and a worker that dies mid-attempt."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from xinyi_partner import WebhookVerificationError, WebhookVerifier

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.partners import service as partners_service
from app.webhooks import delivery, history, service, signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.clock import PINNED
from tests.webhooks.receiver import receiver

# Deliveries are due by their own times (from the pinned clock); other tests may leave theirs due in this
# database too.
T0 = PINNED
SETUP = Principal(type="system", id="test-setup")
POLICY = delivery.RetryPolicy(max_attempts=3, base_seconds=10, max_seconds=60, timeout_seconds=2, jitter=0.0)


def test_signature_matches_the_standard_webhooks_example():
    # The example of the Standard Webhooks specification (and its reference libraries' tests).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    header = signing.signature_header(
        [secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )
    assert header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_backoff_is_exponential_and_capped():
    policy = delivery.RetryPolicy(base_seconds=30, max_seconds=3600, jitter=0.0)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 7, 8)] == [30, 60, 120, 1920, 3600]
    jittered = delivery.RetryPolicy(base_seconds=100, jitter=0.2)
    assert all(80 <= jittered.delay(1).total_seconds() <= 120 for _ in range(50))


def _free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/down"


def _endpoint(engine: Engine, settings: Settings, url: str) -> tuple[str, str, str]:
    """A committed bank partner and endpoint: (partner id, endpoint id, secret)."""
    with Session(engine, expire_on_commit=False) as session:
        partner = partners_service.create_partner(session, SETUP, f"测试银行 {uuid.uuid4().hex[:6]}", "bank")
        principal = Principal(type="partner", id=partner.id, partner_kind="bank")
        endpoint, secret = service.create_endpoint(
            session, Crypto(settings).cipher, settings, principal, url=url, description=None, event_types=None
        )
        session.commit()
    return partner.id, endpoint.id, secret


def _emit(engine: Engine, partner_id: str, now: datetime) -> tuple[str, str]:
    """(event id, delivery id)"""
    with Session(engine, expire_on_commit=False) as session:
        event = service.emit(session, partner_id, "referral.created", {"referral_id": "ref_test"}, now)
        session.commit()
        found = session.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()
    return event.id, found.id


def _delivery(engine: Engine, delivery_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    with Session(engine) as session:
        return history.get_delivery(session, delivery_id), history.attempts_of(session, delivery_id)


def _deliver(engine: Engine, settings: Settings, at: datetime, policy: delivery.RetryPolicy = POLICY):
    return delivery.deliver_due(
        engine,
        Crypto(settings).cipher,
        policy,
        clock=lambda: at,
        budget_seconds=5,
        allow_private=settings.webhooks_may_target_private_urls,
    )


def _only(engine: Engine, delivery_id: str) -> Any:
    """deliver_due may see other tests' committed deliveries; these tests look only at their own."""
    return _delivery(engine, delivery_id)


def test_a_delivery_is_signed_and_logged(committed_engine: Engine, settings: Settings):
    with receiver() as (got, url):
        partner_id, _, secret = _endpoint(committed_engine, settings, url)
        now = utcnow()
        event_id, delivery_id = _emit(committed_engine, partner_id, now)
        _deliver(committed_engine, settings, now)

        sent = [r for r in got.requests if r.headers["webhook-id"] == event_id]
        assert len(sent) == 1, _only(committed_engine, delivery_id)
        message = WebhookVerifier(secret).verify(sent[0].body, sent[0].headers)
        assert message.payload["type"] == "referral.created"
        assert message.payload["data"] == {"referral_id": "ref_test"}
        assert sent[0].headers["webhook-timestamp"] == str(int(now.timestamp()))
        found, attempts = _only(committed_engine, delivery_id)
        assert (found.status, found.attempts, found.last_status_code) == ("succeeded", 1, 200)
        assert [(a.number, a.outcome, a.status_code) for a in attempts] == [(1, "succeeded", 200)]


def test_a_down_receiver_gets_retries_then_fails_and_an_operator_replays_it(
    committed_engine: Engine, settings: Settings
):
    # given an endpoint whose receiver is down
    url = _free_port_url()
    partner_id, endpoint_id, _secret = _endpoint(committed_engine, settings, url)
    event_id, delivery_id = _emit(committed_engine, partner_id, T0)

    # when the worker tries: the first attempt fails and the next is set 10 s later (backoff is data)
    _deliver(committed_engine, settings, T0)
    found, attempts = _only(committed_engine, delivery_id)
    assert (found.status, found.cycle_attempts, found.next_attempt_at) == (
        "pending",
        1,
        T0 + timedelta(seconds=10),
    )
    assert attempts[0].outcome == "network_error"
    # not before it is due
    _deliver(committed_engine, settings, T0 + timedelta(seconds=9))
    assert _only(committed_engine, delivery_id)[0].attempts == 1
    # the second doubles the wait; the third is the last
    _deliver(committed_engine, settings, T0 + timedelta(seconds=10))
    assert _only(committed_engine, delivery_id)[0].next_attempt_at == T0 + timedelta(seconds=30)
    _deliver(committed_engine, settings, T0 + timedelta(seconds=30))

    # then the delivery is failed, with a log line per attempt, and nothing more is tried
    found, attempts = _only(committed_engine, delivery_id)
    assert (found.status, found.attempts, found.failed_at) == ("failed", 3, T0 + timedelta(seconds=30))
    assert [(a.number, a.outcome) for a in attempts] == [(i, "network_error") for i in (1, 2, 3)]
    _deliver(committed_engine, settings, T0 + timedelta(days=1))
    assert _only(committed_engine, delivery_id)[0].attempts == 3

    # when the receiver is back and an operator replays it
    with receiver() as (got, new_url):
        with Session(committed_engine) as session:
            principal = Principal(type="partner", id=partner_id, partner_kind="bank")
            service.update_endpoint(session, settings, principal, endpoint_id, {"url": new_url})
            history.replay(session, Principal(type="user", id="usr_op", roles=frozenset({"operator"})), delivery_id,
                           now=T0 + timedelta(days=1))  # fmt: skip
            session.commit()
        _deliver(committed_engine, settings, T0 + timedelta(days=1))

        # then it is delivered with the same webhook-id
        found, attempts = _only(committed_engine, delivery_id)
        assert (found.status, found.attempts, found.cycle_attempts, found.replays) == ("succeeded", 4, 1, 1)
        assert [r.headers["webhook-id"] for r in got.requests if r.headers["webhook-id"] == event_id] == [
            event_id
        ]
        assert attempts[-1].outcome == "succeeded"


def test_a_5xx_is_retried_and_its_answer_is_logged(committed_engine: Engine, settings: Settings):
    with receiver(status=503) as (_got, url):
        partner_id, _, _ = _endpoint(committed_engine, settings, url)
        _, delivery_id = _emit(committed_engine, partner_id, T0)
        _deliver(committed_engine, settings, T0)
        found, attempts = _only(committed_engine, delivery_id)
        assert (found.status, found.last_status_code) == ("pending", 503)
        assert (attempts[0].outcome, attempts[0].response_excerpt) == ("http_error", "ok")


def test_during_a_secret_rotation_both_signatures_are_sent(committed_engine: Engine, settings: Settings):
    with receiver() as (got, url):
        partner_id, endpoint_id, old_secret = _endpoint(committed_engine, settings, url)
        cipher = Crypto(settings).cipher
        now = utcnow()
        with Session(committed_engine, expire_on_commit=False) as session:
            principal = Principal(type="partner", id=partner_id, partner_kind="bank")
            _, new_secret = service.rotate_secret(
                session, cipher, principal, endpoint_id, timedelta(hours=1), now=now
            )
            session.commit()
        event_id, _ = _emit(committed_engine, partner_id, now)
        _deliver(committed_engine, settings, now)
        sent = next(r for r in got.requests if r.headers["webhook-id"] == event_id)
        assert len(sent.headers["webhook-signature"].split(" ")) == 2
        assert WebhookVerifier(old_secret).verify(sent.body, sent.headers).id == event_id
        assert WebhookVerifier(new_secret).verify(sent.body, sent.headers).id == event_id

        # after the grace period only the new secret signs
        later = now + timedelta(hours=1, seconds=1)
        event_id, _ = _emit(committed_engine, partner_id, later)
        _deliver(committed_engine, settings, later)
        sent = next(r for r in got.requests if r.headers["webhook-id"] == event_id)
        assert len(sent.headers["webhook-signature"].split(" ")) == 1
        clock = lambda: later.timestamp()  # noqa: E731
        assert WebhookVerifier(new_secret, clock=clock).verify(sent.body, sent.headers).id == event_id
        with pytest.raises(WebhookVerificationError):
            WebhookVerifier(old_secret, clock=clock).verify(sent.body, sent.headers)


def test_an_attempt_cut_short_by_a_dead_worker_is_retried_after_its_lease(
    committed_engine: Engine, settings: Settings
):
    with receiver() as (_got, url):
        partner_id, _, _ = _endpoint(committed_engine, settings, url)
        _event_id, delivery_id = _emit(committed_engine, partner_id, T0)
        cipher = Crypto(settings).cipher
        # a worker claims it and dies before writing the result
        claimed = delivery.claim_due(committed_engine, cipher, POLICY, T0, 100)
        claims = [c for c in claimed if c.delivery_id == delivery_id]
        assert len(claims) == 1
        for other in claimed:  # leave other tests' deliveries as they were found: finish them
            if other.delivery_id != delivery_id:
                delivery.finish(
                    committed_engine,
                    other,
                    delivery.Result(delivery.AttemptOutcome.network_error),
                    POLICY,
                    T0,
                )
        # nobody else takes it while the lease runs
        again = delivery.claim_due(
            committed_engine, cipher, POLICY, T0 + POLICY.lease - timedelta(seconds=1), 100
        )
        assert delivery_id not in {c.delivery_id for c in again}
        for other in again:  # leave other tests' deliveries as they were found: finish them
            delivery.finish(
                committed_engine, other, delivery.Result(delivery.AttemptOutcome.network_error), POLICY, T0
            )
        # after it, the next worker marks the attempt interrupted and sends again
        _deliver(committed_engine, settings, T0 + POLICY.lease)
        found, attempts = _only(committed_engine, delivery_id)
        assert found.status == "succeeded"
        assert [(a.number, a.outcome) for a in attempts] == [(1, "interrupted"), (2, "succeeded")]
        # the late result of the dead worker's attempt changes nothing
        late = delivery.finish(
            committed_engine, claims[0], delivery.Result(delivery.AttemptOutcome.network_error), POLICY, T0
        )
        assert late is None
        assert _only(committed_engine, delivery_id)[0].status == "succeeded"


def test_partners_manage_endpoints_and_operators_replay_over_the_api(
    client: TestClient, db: Session, operator
):
    from tests.passes import helpers as pass_helpers

    bank = pass_helpers.partner(db, "bank")
    created = client.post(
        "/v1/partner/webhook-endpoints", json={"url": "https://bank.example/hooks"}, headers=bank["headers"]
    )
    assert created.status_code == 201, created.text
    assert (
        created.json()["secret"].startswith("whsec_")
        and len(base64.b64decode(created.json()["secret"][6:])) == 32
    )
    assert created.headers["cache-control"] == "no-store"
    endpoint_id = created.json()["id"]
    listed = client.get("/v1/partner/webhook-endpoints", headers=bank["headers"]).json()["data"]
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]
    rotated = client.post(
        f"/v1/partner/webhook-endpoints/{endpoint_id}/rotate-secret",
        json={"grace_period_seconds": 3600},
        headers=bank["headers"],
    ).json()
    assert rotated["secret"] != created.json()["secret"] and rotated["previous_secret_expires_at"] is not None
    # the secret is stored sealed, never as given
    stored = db.exec(select(service.WebhookEndpoint).where(service.WebhookEndpoint.id == endpoint_id)).one()
    assert rotated["secret"] not in json.dumps(stored.model_dump(), default=str)

    for bad in ("ftp://bank.example/x", "not a url"):
        response = client.post("/v1/partner/webhook-endpoints", json={"url": bad}, headers=bank["headers"])
        assert (response.status_code, response.json()["param"]) == (422, "url")
    merchant = pass_helpers.partner(db, "merchant")
    denied = client.get("/v1/partner/webhook-endpoints", headers=merchant["headers"])
    assert (denied.status_code, denied.json()["code"]) == (403, "scope_required")
    other = pass_helpers.partner(db, "bank")
    assert (
        client.get(f"/v1/partner/webhook-endpoints/{endpoint_id}", headers=other["headers"]).status_code
        == 404
    )

    # a pending delivery cannot be replayed; a failed one can
    event = service.emit(db, bank["id"], "referral.created", {"referral_id": "ref_x"})
    pending = db.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()
    db.commit()
    refused = client.post(f"/v1/admin/webhook-deliveries/{pending.id}/replay", headers=operator["headers"])
    assert (refused.status_code, refused.json()["code"]) == (409, "delivery_in_progress")
    pending.status = "failed"
    db.add(pending)
    db.commit()
    failed = client.get(
        "/v1/admin/webhook-deliveries", params={"status": "failed"}, headers=operator["headers"]
    )
    assert pending.id in [d["id"] for d in failed.json()["data"]]
    replayed = client.post(f"/v1/admin/webhook-deliveries/{pending.id}/replay", headers=operator["headers"])
    assert (
        replayed.status_code == 200
        and replayed.json()["status"] == "pending"
        and replayed.json()["replays"] == 1
    )
    assert (
        client.post(f"/v1/admin/webhook-deliveries/{pending.id}/replay", headers=bank["headers"]).status_code
        == 403
    )


def test_urls_must_be_public_https_outside_development(settings: Settings):
    production = settings.model_copy(update={"webhook_allow_private_urls": False})
    for url, code in (
        ("http://bank.example/x", "invalid_webhook_url"),
        ("https://127.0.0.1/x", "webhook_url_not_public"),
        ("https://192.168.1.5/x", "webhook_url_not_public"),
        ("https://localhost/x", "webhook_url_not_public"),
        ("https://user:pw@bank.example/x", "invalid_webhook_url"),
    ):
        with pytest.raises(service.InvalidInput) as caught:
            service.check_url(url, production)
        assert caught.value.code == code
    public = lambda host, port: [ipaddress.ip_address("93.184.215.14")]  # noqa: E731 (a public address)
    assert (
        service.check_url("https://bank.example/x", production, resolver=public) == "https://bank.example/x"
    )


def test_sending_uses_the_claims_secrets_and_reports_network_errors():
    claim = delivery.Claim("whd_1", "wha_1", 1, "msg_1", "{}", "http://127.0.0.1:9/x", ["whsec_" + "A" * 44])
    with httpx.Client(timeout=1) as client:
        result = delivery.send(claim, client, 1_800_000_000)
    assert result.outcome == "network_error" and result.error


def test_a_secret_that_cannot_be_opened_spends_no_attempt(committed_engine: Engine, settings: Settings):
    from app.core.security import FieldCipher

    partner_id, _, _ = _endpoint(committed_engine, settings, _free_port_url())
    _, delivery_id = _emit(committed_engine, partner_id, T0)
    other_keys = FieldCipher({"other": base64.urlsafe_b64encode(b"o" * 32).decode()}, "other")
    delivery.deliver_due(committed_engine, other_keys, POLICY, clock=lambda: T0 + timedelta(seconds=1))
    found, attempts = _only(committed_engine, delivery_id)
    assert (found.status, found.attempts, found.last_error) == ("pending", 0, "signing secret unavailable")
    assert found.next_attempt_at > T0 + timedelta(seconds=1) and attempts == []
    # fixed keys: it goes out (and fails here: nobody listens), as an ordinary first attempt
    _deliver(committed_engine, settings, found.next_attempt_at)
    assert _only(committed_engine, delivery_id)[0].attempts == 1
