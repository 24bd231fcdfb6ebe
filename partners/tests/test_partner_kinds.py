"""The typed surface for every partner kind, sync and async, against a scripted platform: lists page with
``starting_after``, answers are typed, refusals raise the typed errors, retries keep their key, and a
record file's refused rows come back numbered as in the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from partner_testkit import API_KEY, problem, run_async
from xinyi_partner import (
    APIError,
    AsyncPartnerClient,
    PartnerClient,
    PermissionDeniedError,
    RecordBatch,
    Referral,
)

BASE = "https://xinyi.test"
Handler = Callable[[httpx.Request], tuple[int, Any]]


def referral(number: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"ref_{number:04d}",
        "object": "referral",
        "application_id": "lap_0001",
        "status": "referred",
        "enterprise": {"name": "乌鲁木齐天山小微科技有限公司", "uscc": "91650100MA77R2E5XL"},
        "amount_fen": 50_000_000,
        "term_months": 12,
        "purpose": "采购原材料",
        "industry": "C",
        "region": "650102",
        "product_id": "lpr_0001",
        "product_ids": ["lpr_0001"],
        "consent": {
            "id": "cns_0001",
            "status": "active",
            "banks": ["ptn_bank"],
            "expires_at": "2027-02-01T00:00:00Z",
            "withdrawn_at": None,
        },
        "decision": {
            "approved_amount_fen": None,
            "annual_rate_bps": None,
            "term_months": None,
            "decline_reason": None,
            "decided_at": None,
        },
        "outcomes": [],
        "created_at": "2026-11-20T02:00:00Z",
        **overrides,
    }


def batch_answer(received: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "record_batch",
        "id": "rbt_0001",
        "source": "ptn_amr",
        "channel": "api",
        "status": "completed",
        "received": received,
        "created": received - len(errors),
        "updated": 0,
        "unchanged": 0,
        "rejected": len(errors),
        "errors": errors,
        "created_at": "2026-11-26T02:00:00Z",
        "finished_at": "2026-11-26T02:00:01Z",
    }


class Scripted:
    """Answers each request with ``handler`` and records it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.handler(request)
        return httpx.Response(status, json=body, headers={"X-Request-Id": "req_test"})

    def sync(self) -> PartnerClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return PartnerClient(BASE, API_KEY, http=http, sleep=lambda _: None, rng=lambda: 0.0)

    def asynchronous(self) -> AsyncPartnerClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))

        async def no_wait(_: float) -> None:
            return None

        return AsyncPartnerClient(BASE, API_KEY, http=http, sleep=no_wait, rng=lambda: 0.0)


def three_pages(request: httpx.Request) -> tuple[int, Any]:
    """Five referrals, newest first, in pages of two."""
    ids = [5, 4, 3, 2, 1]
    after = request.url.params.get("starting_after")
    start = 0 if after is None else ids.index(int(after.removeprefix("ref_"))) + 1
    limit = int(request.url.params["limit"])
    page = ids[start : start + limit]
    return 200, {"object": "list", "data": [referral(n) for n in page], "has_more": start + limit < len(ids)}


def test_referrals_are_listed_page_after_page():
    platform = Scripted(three_pages)
    with platform.sync() as client:
        referrals = list(client.list_referrals(status="referred", limit=2))

    assert [r.id for r in referrals] == ["ref_0005", "ref_0004", "ref_0003", "ref_0002", "ref_0001"]
    assert all(isinstance(r, Referral) for r in referrals)
    assert referrals[0].consent.expires_at == datetime(2027, 2, 1, tzinfo=UTC)
    assert [str(r.url.params) for r in platform.requests] == [
        "status=referred&limit=2",
        "status=referred&limit=2&starting_after=ref_0004",
        "status=referred&limit=2&starting_after=ref_0002",
    ]
    assert {r.headers["authorization"] for r in platform.requests} == {f"Bearer {API_KEY}"}


def test_the_async_client_pages_the_same_way():
    platform = Scripted(three_pages)

    async def run() -> list[str]:
        async with platform.asynchronous() as client:
            return [r.id async for r in client.list_referrals(limit=2)]

    assert run_async(run()) == ["ref_0005", "ref_0004", "ref_0003", "ref_0002", "ref_0001"]
    assert [r.url.params.get("starting_after") for r in platform.requests] == [None, "ref_0004", "ref_0002"]


def test_a_page_is_fetched_only_when_reached():
    platform = Scripted(three_pages)
    with platform.sync() as client:
        first = client.list_referrals(limit=2).first_page()

    assert ([r.id for r in first.data], first.has_more) == (["ref_0005", "ref_0004"], True)
    assert len(platform.requests) == 1


def test_a_withdrawn_consent_is_a_typed_refusal_sync_and_async():
    def refuse(request: httpx.Request) -> tuple[int, Any]:
        return 403, problem(403, "consent_withdrawn", "Consent withdrawn", "The enterprise withdrew it.")

    platform = Scripted(refuse)
    with platform.sync() as client, pytest.raises(PermissionDeniedError) as sync_refusal:
        client.get_referral_report("ref_0001")

    async def run() -> None:
        async with platform.asynchronous() as client:
            await client.get_referral_report("ref_0001")

    with pytest.raises(PermissionDeniedError) as async_refusal:
        run_async(run())
    for refusal in (sync_refusal.value, async_refusal.value):
        assert (refusal.status, refusal.code, refusal.request_id) == (
            403,
            "consent_withdrawn",
            "req_0123456789abcdef01234567",
        )
    assert [r.url.path for r in platform.requests] == ["/v1/partner/referrals/ref_0001/report"] * 2


def test_a_decision_retried_after_a_503_keeps_its_idempotency_key():
    answers = iter([(503, problem(503, "dependency_unavailable", "Unavailable"))])

    def flaky(request: httpx.Request) -> tuple[int, Any]:
        return next(answers, (200, referral(1, status="declined")))

    platform = Scripted(flaky)

    async def run() -> Referral:
        async with platform.asynchronous() as client:
            return await client.decline_referral("ref_0001", reason="credit_history")

    declined = run_async(run())

    assert declined.status == "declined"
    first, second = platform.requests
    assert json.loads(first.content) == {"decision": "declined", "reason": "credit_history"}
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.url.path == "/v1/partner/referrals/ref_0001/decision"


def test_an_outcome_is_posted_with_its_date():
    def created(request: httpx.Request) -> tuple[int, Any]:
        body = json.loads(request.content)
        return 201, {
            "id": "lot_0001",
            "object": "loan_outcome",
            **body,
            "record_id": "rec_0001",
            "reported_at": "2026-11-26T02:00:00Z",
        }

    platform = Scripted(created)
    with platform.sync() as client:
        outcome = client.report_outcome(
            "ref_0001", kind="overdue", occurred_on=date(2026, 11, 20), days_overdue=6, reference="bank-77"
        )

    assert (outcome.kind, outcome.occurred_on, outcome.days_overdue) == ("overdue", date(2026, 11, 20), 6)
    assert json.loads(platform.requests[0].content) == {
        "kind": "overdue",
        "occurred_on": "2026-11-20",
        "days_overdue": 6,
        "reference": "bank-77",
    }


def test_an_answer_of_the_wrong_shape_is_unexpected_response():
    platform = Scripted(lambda request: (200, {"object": "referral", "id": "ref_0001"}))
    with platform.sync() as client, pytest.raises(APIError) as refusal:
        client.get_referral("ref_0001")
    assert refusal.value.code == "unexpected_response"


def test_a_record_file_goes_in_batches_and_its_refused_rows_keep_their_file_numbers(tmp_path: Path):
    sent: list[list[Any]] = []

    def batches(request: httpx.Request) -> tuple[int, Any]:
        rows = json.loads(request.content)["records"]
        sent.append(rows)
        errors = [
            {"row": number, "field": None, "code": "invalid_row", "message": "each row must be an object"}
            for number, row in enumerate(rows, start=1)
            if not isinstance(row, dict)
        ]
        return 201, batch_answer(len(rows), errors)

    path = tmp_path / "amr.csv"
    path.write_text(
        "\ufeffsource_record_id,category,uscc,severity,decision_date\n"
        "amr-1,administrative_license,91650100MA77R2E5XL,,2026-01-15\n"
        "amr-2,administrative_license,91650100MA77R2E5XL,,2026-01-16\n"
        "\n"
        "amr-3,administrative_penalty,91650100MA77R2E5XL,general\n"  # a field short
        "amr-4,administrative_license,91650100MA77R2E5XL,,2026-01-17\n",
        encoding="utf-8",
    )
    platform = Scripted(batches)
    with platform.sync() as client:
        upload = client.upload_records_file(path, batch_size=2)
        again = client.upload_records_file(path, batch_size=2)

    assert sent[0][0] == {
        "source_record_id": "amr-1",
        "category": "administrative_license",
        "uscc": "91650100MA77R2E5XL",
        "decision_date": "2026-01-15",
    }
    assert [len(rows) for rows in sent[:2]] == [2, 2]
    assert (upload.received, upload.created, upload.rejected) == (4, 3, 1)
    assert [(e.row, e.code) for e in upload.errors] == [(3, "invalid_row")]
    assert all(isinstance(b, RecordBatch) for b in upload.batches)
    keys = [r.headers["idempotency-key"] for r in platform.requests]
    assert keys[:2] == keys[2:] and keys[0] != keys[1]
    assert [(e.row, e.code) for e in again.errors] == [(3, "invalid_row")]


def test_secrets_shown_once_stay_out_of_reprs():
    def endpoint(request: httpx.Request) -> tuple[int, Any]:
        return 201, {
            "id": "whe_0001",
            "object": "webhook_endpoint",
            "url": "https://bank.example/hooks",
            "description": None,
            "event_types": [],
            "enabled": True,
            "previous_secret_expires_at": None,
            "created_at": "2026-11-26T02:00:00Z",
            "updated_at": "2026-11-26T02:00:00Z",
            "secret": "whsec_" + "A" * 44,
        }

    platform = Scripted(endpoint)
    with platform.sync() as client:
        created = client.create_webhook_endpoint("https://bank.example/hooks")

    assert created.secret == "whsec_" + "A" * 44
    assert "whsec_" not in repr(created) and API_KEY not in repr(client)
    assert json.loads(platform.requests[0].content) == {
        "url": "https://bank.example/hooks",
        "description": None,
        "event_types": None,
    }
