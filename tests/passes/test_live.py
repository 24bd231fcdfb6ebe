"""The whole stack with real commits: many scanners racing for one pass, and the resident's live stream.

These tests use their own app on the committed database (no per-test rollback): concurrent requests need
their own transactions, and the event stream reads with sessions of its own.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit.models import AuditEntry
from app.core.config import Settings
from app.core.db import make_async_engine
from app.core.principal import Principal
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore, KeyValueStoreOnLoop, on_loop
from app.passes.tokens import TokenRefused
from app.verifications import service as verifications_service
from app.verifications.models import Verification
from tests.helpers import on_a_loop, table_snapshot
from tests.passes import helpers
from tests.passes.helpers import issue, verify

SCANNERS = 200


def committed_partner(engine: Engine, kind: str = "merchant") -> dict[str, Any]:
    with Session(engine, expire_on_commit=False) as session:
        return helpers.partner(session, kind)


def merchant_with_used_key(live: TestClient, engine: Engine) -> dict[str, Any]:
    """A committed merchant whose key was used once (its last-used time written), so that what a test
    races or snapshots afterwards is about the pass only."""
    merchant = committed_partner(engine)
    helpers.touch(live, merchant)
    return merchant


def run_together(count: int, work: Callable[[], tuple[int, str]]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(count)
    outcomes: list[tuple[int, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome = work()
            with lock:
                outcomes.append(outcome)
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sorted(outcomes)


def stored_for(engine: Engine, pass_id: str) -> list[Verification]:
    with Session(engine) as session:
        return list(session.exec(select(Verification).where(Verification.pass_id == pass_id)).all())


def test_of_200_scans_of_one_pass_over_http_exactly_one_is_eligible(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    # given one pass and a merchant
    holder = helpers.resident(live, sms)
    merchant = merchant_with_used_key(live, committed_engine)
    issued = issue(live, holder)

    # when 200 scanners submit it at once (Redis on the external leg, the embedded store on the other)
    def scan() -> tuple[int, str]:
        response = verify(live, merchant, issued["token"])
        body = response.json()
        return response.status_code, body.get("decision") or body["code"]

    outcomes = run_together(SCANNERS, scan)

    # then exactly one is eligible, every other one is a replay, and one verification was stored
    assert outcomes == [(201, "eligible")] + [(409, "token_replayed")] * (SCANNERS - 1)
    assert len(stored_for(committed_engine, issued["id"])) == 1


def test_200_simultaneous_verifications_of_one_pass_claim_it_once(
    live: TestClient, committed_engine: Engine, sms: RecordingSender, store: KeyValueStore, settings: Settings
) -> None:
    # given one pass and a merchant
    holder = helpers.resident(live, sms)
    merchant = committed_partner(committed_engine)
    issued = issue(live, holder)
    app = live.app
    principal = Principal(
        type="partner", id=merchant["id"], partner_kind="merchant", scopes=frozenset({"verifications:write"})
    )

    # when 200 verifications of it start together on one event loop, as a server runs them, each in its
    # own transaction
    async def scan(engine: AsyncEngine, shared: KeyValueStoreOnLoop) -> tuple[int, str]:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            try:
                verification = await verifications_service.verify(
                    session,
                    shared,
                    app.state.keyring,  # type: ignore[attr-defined]
                    app.state.crypto.hasher,  # type: ignore[attr-defined]
                    app.state.scenarios,  # type: ignore[attr-defined]
                    principal,
                    issued["token"],
                    "deposit_free_rental",
                )
                await session.commit()
                return 201, verification.decision
            except TokenRefused as refused:
                await session.rollback()
                return refused.status, refused.code

    async def scan_all() -> list[tuple[int, str]]:
        engine = make_async_engine(settings.database_url)
        shared = on_loop(store)  # Redis's asyncio client on the external leg
        try:
            return list(await asyncio.gather(*(scan(engine, shared) for _ in range(SCANNERS))))
        finally:
            await shared.close()
            await engine.dispose()

    outcomes = sorted(on_a_loop(scan_all))

    # then exactly one got past the claim
    assert outcomes == [(201, "eligible")] + [(409, "token_replayed")] * (SCANNERS - 1)
    assert len(stored_for(committed_engine, issued["id"])) == 1


def listen(client: TestClient, headers: dict[str, str], lines: queue.Queue[str], wanted: int) -> None:
    with client.stream("GET", "/v1/me/verifications/stream", headers=headers) as response:
        lines.put(f"status {response.status_code} {response.headers['content-type']}")
        data = 0
        for line in response.iter_lines():
            lines.put(line)
            data += line.startswith("data:")
            if data == wanted:
                return


# How long a test waits for a line of the stream: far more than a scan takes to arrive (well under a
# second), so that a loaded CI machine does not fail it; how fast it arrives is a benchmark's question.
WAIT = 15.0


def next_line(lines: queue.Queue[str], starting: str, within: float) -> str:
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no line starting {starting!r} within {within} s")
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line.startswith(starting):
            return line


def test_a_verification_on_the_event_loop_commits_its_decision_with_its_audit_entry_and_a_refusal_nothing(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    # given a pass and a merchant, served by the app's own engines (the handler's AsyncSession for real)
    holder = helpers.resident(live, sms)
    merchant = merchant_with_used_key(live, committed_engine)
    issued = issue(live, holder)
    with Session(committed_engine) as session:
        before = table_snapshot(session)

    # when the merchant asks about a scenario that does not exist
    refused = verify(live, merchant, issued["token"], scenario="no_such_scenario")

    # then it is refused, naming the field, and nothing was written
    problem = refused.json()
    assert (refused.status_code, problem["code"], problem["param"]) == (422, "unknown_scenario", "scenario")
    with Session(committed_engine) as session:
        assert table_snapshot(session) == before

    # when it verifies the pass for a real scenario
    response = verify(live, merchant, issued["token"])

    # then the decision and its entry on the subject's audit chain are committed together
    assert response.status_code == 201, response.text
    decided = response.json()
    [stored] = stored_for(committed_engine, issued["id"])
    assert (stored.id, stored.decision, stored.partner_id) == (
        decided["id"],
        decided["decision"],
        merchant["id"],
    )
    with Session(committed_engine) as session:
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.subject_id == holder["subject_id"], AuditEntry.action == "pass.verified"
            )
        ).all()
    assert [(e.chain, e.actor_id, e.details["verification_id"]) for e in entries] == [
        (f"subject:{holder['subject_id']}", merchant["id"], decided["id"])
    ]
    # and the resident sees who read their standing, and why
    log = live.get("/v1/me/access-log", headers=holder["headers"]).json()["data"]
    assert [(e["partner_id"], e["purpose"]) for e in log if e["action"] == "pass.verified"] == [
        (merchant["id"], "deposit_free_rental")
    ]


def test_a_scan_reaches_the_residents_stream_while_it_is_open(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    # given a resident watching their stream
    holder = helpers.resident(live, sms)
    merchant = committed_partner(committed_engine)
    token = issue(live, holder)["token"]
    lines: queue.Queue[str] = queue.Queue()
    watcher = threading.Thread(target=listen, args=(live, holder["headers"], lines, 1), daemon=True)
    watcher.start()
    assert next_line(lines, "status", WAIT) == "status 200 text/event-stream; charset=utf-8"
    next_line(lines, ": connected", WAIT)

    # when a merchant scans the pass
    scanned = verify(live, merchant, token)
    assert scanned.status_code == 201

    # then the scan is on the stream, as the resident's list shows it
    event = json.loads(next_line(lines, "data:", WAIT).removeprefix("data:"))
    assert (event["id"], event["partner"]["id"], event["scenario"]["id"], event["decision"]) == (
        scanned.json()["id"],
        merchant["id"],
        "deposit_free_rental",
        "eligible",
    )
    listed = live.get("/v1/me/verifications", headers=holder["headers"]).json()["data"][0]
    assert event == listed
    watcher.join(timeout=5)


def test_a_stream_resumed_with_last_event_id_sends_what_was_missed(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    holder = helpers.resident(live, sms)
    merchant = committed_partner(committed_engine)
    first = verify(live, merchant, issue(live, holder)["token"]).json()["id"]
    second = verify(live, merchant, issue(live, holder)["token"]).json()["id"]
    lines: queue.Queue[str] = queue.Queue()
    headers = {**holder["headers"], "Last-Event-ID": first}
    watcher = threading.Thread(target=listen, args=(live, headers, lines, 1), daemon=True)
    watcher.start()
    assert next_line(lines, "id:", WAIT) == f"id: {second}"
    watcher.join(timeout=5)
