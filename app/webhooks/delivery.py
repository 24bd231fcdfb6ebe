"""Delivering the outbox: claim due deliveries, send them signed, log each attempt, back off or give up.

Backoff is data, not a sleep: a failed attempt sets ``next_attempt_at`` (exponential, capped, jittered);
after ``max_attempts`` the delivery is ``failed`` until an operator replays it.

Crash safety. A delivery is claimed in a short transaction that marks it ``delivering`` with a lease
(``lease_until``) and writes its attempt row; the HTTP request runs outside any transaction; the result is
written in a second short transaction, only if the claim is still ours. A worker killed in between leaves
the lease to run out: the next worker marks that attempt ``interrupted`` and sends again, with the same
``webhook-id``, so the receiver (which dedupes by it) applies the event once. Claims use ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the queue; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import structlog
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.security import FieldCipher
from app.webhooks import signing
from app.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from app.webhooks.outbound import AddressRefused, Resolver, VettedTransport, resolve
from app.webhooks.service import live_secrets

log = structlog.get_logger("app.webhooks")
USER_AGENT = "xinyi-webhooks/1"
EXCERPT = 500


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    max_seconds: float = 6 * 3600.0
    timeout_seconds: float = 10.0
    jitter: float = 0.2  # ± this fraction of each delay, so retries of many deliveries spread out

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_backoff_base_seconds,
            max_seconds=settings.webhook_backoff_max_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
        )

    @property
    def lease(self) -> timedelta:
        # Longer than any attempt can take (connect + read timeouts), with room to write the result.
        return timedelta(seconds=2 * self.timeout_seconds + 5)

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """Wait after the ``attempt``-th failed attempt: base × 2^(attempt-1), capped, ± jitter."""
        raw = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return timedelta(seconds=max(0.0, raw * (1 + spread)))


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    attempt_id: str
    number: int  # delivery.attempts after claiming: the guard for writing the result
    msg_id: str
    body: str
    url: str
    secrets: list[str] = field(repr=False)


@dataclass(frozen=True)
class Result:
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    duration_ms: int = 0


@dataclass
class DeliverySummary:
    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        (col(WebhookDelivery.status) == DeliveryStatus.pending)
        & (col(WebhookDelivery.next_attempt_at) <= now),
        (col(WebhookDelivery.status) == DeliveryStatus.delivering)
        & (col(WebhookDelivery.lease_until) <= now),
    )


def claim_due(
    engine: Engine, cipher: FieldCipher, policy: RetryPolicy, now: datetime, limit: int = 20
) -> list[Claim]:
    claims: list[Claim] = []
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(WebhookDelivery)
            .where(_due(now))
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for delivery in rows:
            if delivery.status == DeliveryStatus.delivering:
                _interrupt(session, delivery, now)
                if delivery.cycle_attempts >= policy.max_attempts:
                    _give_up(delivery, now, "the last attempt was interrupted")
                    session.add(delivery)
                    continue
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            event = session.get(WebhookEvent, delivery.event_id)
            assert endpoint is not None and event is not None  # foreign keys
            if not endpoint.enabled:
                _give_up(delivery, now, "endpoint disabled")
                session.add(delivery)
                continue
            try:
                secrets = live_secrets(cipher, endpoint, now)
            except (KeyError, ValueError, InvalidTag):
                # A configuration fault (the key that sealed the secret is gone): not the receiver's, so no
                # attempt is spent; the delivery waits and the operator is told in the log.
                log.error("webhook secret cannot be opened", endpoint_id=endpoint.id, delivery_id=delivery.id)
                delivery.status = DeliveryStatus.pending
                delivery.lease_until = None
                delivery.last_error = "signing secret unavailable"
                delivery.next_attempt_at = now + policy.delay(max(1, delivery.cycle_attempts))
                session.add(delivery)
                continue
            delivery.attempts += 1
            delivery.cycle_attempts += 1
            delivery.status = DeliveryStatus.delivering
            delivery.lease_until = now + policy.lease
            delivery.last_attempt_at = now
            attempt = WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, started_at=now)
            session.add(delivery)
            session.add(attempt)
            claims.append(
                Claim(
                    delivery_id=delivery.id,
                    attempt_id=attempt.id,
                    number=delivery.attempts,
                    msg_id=event.id,
                    body=event.body,
                    url=endpoint.url,
                    secrets=secrets,
                )
            )
        session.commit()
    return claims


def _interrupt(session: Session, delivery: WebhookDelivery, now: datetime) -> None:
    session.execute(
        update(WebhookAttempt)
        .where(
            col(WebhookAttempt.delivery_id) == delivery.id,
            col(WebhookAttempt.outcome) == AttemptOutcome.in_progress,
        )
        .values(outcome=AttemptOutcome.interrupted.value, finished_at=now, error="worker stopped mid-attempt")
        .execution_options(synchronize_session=False)
    )
    delivery.last_error = "interrupted"


def _give_up(delivery: WebhookDelivery, now: datetime, error: str) -> None:
    delivery.status = DeliveryStatus.failed
    delivery.failed_at = now
    delivery.lease_until = None
    delivery.last_error = error


def send(claim: Claim, client: httpx.Client, timestamp: int) -> Result:
    headers = signing.headers_for(claim.secrets, claim.msg_id, timestamp, claim.body)
    headers["user-agent"] = USER_AGENT
    started = time.monotonic()
    try:
        response = client.post(claim.url, content=claim.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Result(AttemptOutcome.network_error, error=network_error_class(exc), duration_ms=elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    excerpt = response.text[:EXCERPT] if response.content else None
    if 200 <= response.status_code < 300:
        return Result(AttemptOutcome.succeeded, response.status_code, None, excerpt, elapsed)
    return Result(
        AttemptOutcome.http_error, response.status_code, f"HTTP {response.status_code}", excerpt, elapsed
    )


def network_error_class(exc: httpx.HTTPError) -> str:
    """What the partner reads in its delivery log: a class of failure, never the socket's own words
    (refused, reset, unreachable, … would make the log a port scanner's oracle)."""
    if isinstance(exc, AddressRefused):
        return "address not allowed: the host must resolve to public addresses only"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return "the connection failed"


def vetted_client(policy: RetryPolicy, *, allow_private: bool, resolver: Resolver = resolve) -> httpx.Client:
    """The client deliveries go out through: vetted addresses, no redirects, the policy's timeouts."""
    return httpx.Client(
        transport=VettedTransport(allow_private=allow_private, resolver=resolver),
        timeout=httpx.Timeout(policy.timeout_seconds, connect=min(5.0, policy.timeout_seconds)),
        follow_redirects=False,
    )


def finish(
    engine: Engine, claim: Claim, result: Result, policy: RetryPolicy, now: datetime
) -> DeliveryStatus | None:
    """Write the attempt's result; returns the delivery's new status, or None when the claim was lost
    (the lease ran out and another worker took the delivery over: its result wins)."""
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.exec(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,
                WebhookDelivery.status == DeliveryStatus.delivering,
                WebhookDelivery.attempts == claim.number,
            )
            .with_for_update()
        ).first()
        if delivery is None:
            return None
        attempt = session.get(WebhookAttempt, claim.attempt_id)
        assert attempt is not None
        attempt.finished_at = now
        attempt.outcome = result.outcome
        attempt.status_code = result.status_code
        attempt.error = result.error
        attempt.response_excerpt = result.excerpt
        attempt.duration_ms = result.duration_ms
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        delivery.lease_until = None
        if result.outcome == AttemptOutcome.succeeded:
            delivery.status = DeliveryStatus.succeeded
            delivery.succeeded_at = now
        elif delivery.cycle_attempts >= policy.max_attempts:
            delivery.status = DeliveryStatus.failed
            delivery.failed_at = now
        else:
            delivery.status = DeliveryStatus.pending
            delivery.next_attempt_at = now + policy.delay(delivery.cycle_attempts)
        session.add(attempt)
        session.add(delivery)
        status = DeliveryStatus(delivery.status)
        session.commit()
    return status


def deliver_due(
    engine: Engine,
    cipher: FieldCipher,
    policy: RetryPolicy,
    *,
    clock: Callable[[], datetime] = utcnow,
    client: httpx.Client | None = None,
    allow_private: bool = False,
    batch: int = 20,
    concurrency: int = 8,
    budget_seconds: float = 20.0,
) -> DeliverySummary:
    """Deliver what is due, batch after batch, until nothing is due or ``budget_seconds`` passed.
    ``allow_private``: loopback and private targets too (development and tests only)."""
    summary = DeliverySummary()
    owned = client is None
    http = client or vetted_client(policy, allow_private=allow_private)
    deadline = time.monotonic() + budget_seconds
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool:
            while time.monotonic() < deadline:
                claims = claim_due(engine, cipher, policy, clock(), batch)
                if not claims:
                    break
                timestamp = int(clock().timestamp())
                results = list(pool.map(send, claims, [http] * len(claims), [timestamp] * len(claims)))
                for claim, result in zip(claims, results, strict=True):
                    status = finish(engine, claim, result, policy, clock())
                    summary.attempted += 1
                    if status == DeliveryStatus.succeeded:
                        summary.succeeded += 1
                    elif status == DeliveryStatus.failed:
                        summary.failed += 1
                        log.warning(
                            "webhook delivery failed", delivery_id=claim.delivery_id, error=result.error
                        )
                    elif status == DeliveryStatus.pending:
                        summary.retrying += 1
    finally:
        if owned:
            http.close()
    return summary
