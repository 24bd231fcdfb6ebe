"""The offline-use queue: record, replay on the device, flush in batches when back online."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BASE
from partner_testkit import API_KEY, SCENARIO, FakeClock, FakePlatform, problem, report_answer
from xinyi_partner import APIConnectionError, HandleAlreadyUsed, OfflineQueue, PartnerClient, ServerError
from xinyi_partner.results import OfflineResult

REPORTS = "/v1/offline/reports"


def _accepted(handle: str, expires_at: int = 1_800_086_400) -> OfflineResult:
    return OfflineResult(decision="accepted", scenario=SCENARIO, handle=handle, expires_at=expires_at)


@pytest.fixture
def client(platform: FakePlatform) -> PartnerClient:
    return PartnerClient(BASE, API_KEY, http=platform.client(), sleep=lambda _: None, max_attempts=2)


def test_record_and_replay(queue: OfflineQueue, clock: FakeClock):
    use = queue.record("tok.en.1", _accepted("handle-one"))
    assert (use.handle, use.scenario, use.used_at, use.expires_at) == (
        "handle-one",
        SCENARIO,
        int(clock()),
        1_800_086_400,
    )
    assert queue.has_used("handle-one") is True
    assert queue.has_used("handle-two") is False
    with pytest.raises(HandleAlreadyUsed):
        queue.record("tok.en.1", _accepted("handle-one"))
    with pytest.raises(ValueError, match="accepted"):
        queue.record("tok.en.2", OfflineResult(decision="refused", scenario=SCENARIO, handle="h2"))


def test_flush_sends_pending_uses_in_batches(
    queue: OfflineQueue, client: PartnerClient, platform: FakePlatform, clock: FakeClock
):
    for i in range(3):
        queue.record(f"tok.en.{i}", _accepted(f"handle-{i}"))
        clock.advance(10)

    flushed = queue.flush(client, batch_size=2)

    assert (flushed.reported, flushed.batches) == (3, 2)
    assert [(use.handle, item.status) for use, item in flushed.items] == [
        ("handle-0", "recorded"),
        ("handle-1", "recorded"),
        ("handle-2", "recorded"),
    ]
    requests = platform.of(REPORTS)
    assert [r.json() for r in requests] == [
        {
            "items": [
                {"token": "tok.en.0", "scenario": SCENARIO, "used_at": "2027-01-15T08:00:00Z"},
                {"token": "tok.en.1", "scenario": SCENARIO, "used_at": "2027-01-15T08:00:10Z"},
            ]
        },
        {"items": [{"token": "tok.en.2", "scenario": SCENARIO, "used_at": "2027-01-15T08:00:20Z"}]},
    ]
    assert queue.pending() == []
    assert queue.has_used("handle-0")  # still known to the device after reporting
    assert queue.flush(client).reported == 0
    assert len(platform.of(REPORTS)) == 2


def test_flush_keeps_the_platforms_answer_for_each_use(
    queue: OfflineQueue, client: PartnerClient, platform: FakePlatform, clock: FakeClock
):
    for i in range(4):
        queue.record(f"tok.en.{i}", _accepted(f"handle-{i}"))
    platform.report_answers.append((200, report_answer("recorded", "flagged", "duplicate", "rejected"), {}))

    flushed = queue.flush(client)

    assert flushed.reported == 4
    assert [u.handle for u, _ in flushed.recorded] == ["handle-0"]
    assert [u.handle for u, _ in flushed.flagged] == ["handle-1"]
    assert [u.handle for u, _ in flushed.duplicates] == ["handle-2"]
    assert [(u.handle, i.code) for u, i in flushed.rejected] == [("handle-3", "token_invalid_signature")]
    kept = queue.get("handle-1")
    assert kept is not None
    assert (kept.report_status, kept.verification_id, kept.reported_at) == (
        "flagged",
        "ver_0001",
        int(clock()),
    )
    rejected = queue.get("handle-3")
    assert rejected is not None and (rejected.report_status, rejected.report_code) == (
        "rejected",
        "token_invalid_signature",
    )
    # every answer is final: nothing is sent again
    assert queue.pending() == [] and queue.flush(client).batches == 0


class _Partial:
    """A reporter that answers only the first use of each batch."""

    def __init__(self) -> None:
        self.calls = 0

    def report_offline_uses(self, uses, *, idempotency_key=None):  # type: ignore[no-untyped-def]
        from xinyi_partner.results import OfflineReportItem

        self.calls += 1
        return [OfflineReportItem(index=0, status="recorded")]


def test_uses_the_answer_does_not_cover_stay_pending(queue: OfflineQueue):
    for i in range(3):
        queue.record(f"tok.en.{i}", _accepted(f"handle-{i}"))
    reporter = _Partial()
    flushed = queue.flush(reporter, batch_size=3)
    assert (flushed.reported, reporter.calls) == (1, 1)  # not sent again in the same flush
    assert [u.handle for u in queue.pending()] == ["handle-1", "handle-2"]  # but by the next one


def test_flush_uses_a_stable_idempotency_key_per_batch(
    tmp_path: Path, client: PartnerClient, platform: FakePlatform, clock: FakeClock
):
    platform.report_answers.extend([(500, problem(500, "internal_error", "Internal error"), {})] * 2)
    with OfflineQueue(tmp_path / "q.sqlite3", clock=clock) as queue:
        queue.record("tok.en.1", _accepted("handle-1"))
        with pytest.raises(ServerError, match="internal_error"):
            queue.flush(client)
        assert queue.pending_count() == 1

    # After a restart the same batch is sent with the same key: the platform can tell it is a retry.
    with OfflineQueue(tmp_path / "q.sqlite3", clock=clock) as queue:
        assert queue.flush(client).reported == 1
    keys = [r.headers["idempotency-key"] for r in platform.of(REPORTS)]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert keys[0].startswith("offline-report-")


def test_flush_while_still_offline_keeps_the_queue(
    queue: OfflineQueue, client: PartnerClient, platform: FakePlatform
):
    queue.record("tok.en.1", _accepted("handle-1"))
    platform.down = True
    with pytest.raises(APIConnectionError):
        queue.flush(client)
    assert [u.handle for u in queue.pending()] == ["handle-1"]


def test_prune_forgets_reported_uses_of_expired_codes(
    queue: OfflineQueue, client: PartnerClient, clock: FakeClock
):
    queue.record("tok.en.1", _accepted("handle-1", expires_at=int(clock()) + 100))
    queue.record("tok.en.2", _accepted("handle-2", expires_at=int(clock()) + 100_000))
    assert queue.prune() == 0  # nothing reported yet
    queue.flush(client)
    clock.advance(100 + 3600 + 1)
    assert queue.prune() == 1
    assert (queue.has_used("handle-1"), queue.has_used("handle-2")) == (False, True)
