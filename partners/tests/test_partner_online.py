"""The online client: the decision, problem+json errors, retries with the same Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import BASE
from partner_testkit import API_KEY, SCENARIO, FakePlatform, eligible, problem, report_answer
from xinyi_partner import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    PartnerClient,
    RateLimitError,
    ServerError,
)

VERIFY = "/v1/verifications"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(platform: FakePlatform, sleeps: list[float]) -> PartnerClient:
    return PartnerClient(BASE, API_KEY, http=platform.client(), sleep=sleeps.append, rng=lambda: 0.0)


def test_eligible_decision_is_parsed(platform: FakePlatform, client: PartnerClient):
    token = platform.online_pass()

    result = client.verify(token, SCENARIO)

    assert result.eligible is True
    assert (result.id, result.decision, result.reason, result.subject) == (
        "ver_0001",
        "eligible",
        "level_meets_minimum",
        "psn_7Qx2",
    )
    assert result.benefit == {"kind": "deposit_waiver", "amount_fen": 9900}
    assert result.expires_at == datetime(2027, 1, 15, 8, 1, 30, tzinfo=UTC)
    (request,) = platform.of(VERIFY)
    assert request.method == "POST"
    assert request.json() == {"token": token, "scenario": SCENARIO}
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["idempotency-key"] == result.idempotency_key
    assert request.headers["content-type"] == "application/json"


def test_not_eligible_decision(platform: FakePlatform, client: PartnerClient):
    platform.verification_answers.append(
        (201, eligible(SCENARIO, decision="not_eligible", reason={"code": "level_below_minimum"}), {})
    )
    result = client.verify(platform.online_pass(), SCENARIO, idempotency_key="kiosk-7-scan-42")
    assert (result.eligible, result.reason, result.idempotency_key) == (
        False,
        "level_below_minimum",
        "kiosk-7-scan-42",
    )
    assert platform.of(VERIFY)[0].headers["idempotency-key"] == "kiosk-7-scan-42"


def test_problem_json_becomes_a_typed_error(
    platform: FakePlatform, client: PartnerClient, sleeps: list[float]
):
    platform.verification_answers.append(
        (
            422,
            problem(422, "token_replayed", "Token already used", "This pass was already scanned.", "token"),
            {},
        )
    )

    with pytest.raises(InvalidRequestError) as caught:
        client.verify(platform.online_pass(), SCENARIO)

    error = caught.value
    assert (error.status, error.code, error.param, error.request_id) == (
        422,
        "token_replayed",
        "token",
        "req_0123456789abcdef01234567",
    )
    assert (error.title, error.detail, error.type) == (
        "Token already used",
        "This pass was already scanned.",
        "https://xinyi.example/problems/token_replayed",
    )
    assert platform.count(VERIFY) == 1  # a refusal is not retried
    assert sleeps == []


def test_authentication_error(platform: FakePlatform, client: PartnerClient):
    platform.verification_answers.append(
        (401, problem(401, "unauthenticated", "Authentication required"), {})
    )
    with pytest.raises(AuthenticationError) as caught:
        client.verify(platform.online_pass(), SCENARIO)
    assert (caught.value.status, caught.value.code) == (401, "unauthenticated")


def test_a_503_is_retried_once_with_the_same_idempotency_key(
    platform: FakePlatform, client: PartnerClient, sleeps: list[float]
):
    platform.verification_answers.append((503, problem(503, "unavailable", "Service unavailable"), {}))

    result = client.verify(platform.online_pass(), SCENARIO)

    assert result.eligible
    requests = platform.of(VERIFY)
    assert len(requests) == 2
    assert (
        requests[0].headers["idempotency-key"]
        == requests[1].headers["idempotency-key"]
        == result.idempotency_key
    )
    assert requests[0].body == requests[1].body
    assert sleeps == [0.25]  # backoff_initial 0.5 with the jitter at its minimum


def test_retries_stop_after_max_attempts(platform: FakePlatform, client: PartnerClient, sleeps: list[float]):
    platform.verification_answers.extend([(503, problem(503, "unavailable", "Service unavailable"), {})] * 3)
    with pytest.raises(ServerError) as caught:
        client.verify(platform.online_pass(), SCENARIO)
    assert (caught.value.status, caught.value.code) == (503, "unavailable")
    assert platform.count(VERIFY) == 3
    assert sleeps == [0.25, 0.5]
    assert len({r.headers["idempotency-key"] for r in platform.of(VERIFY)}) == 1


def test_retry_after_is_honoured(platform: FakePlatform, client: PartnerClient, sleeps: list[float]):
    platform.verification_answers.append(
        (429, problem(429, "rate_limited", "Too many"), {"Retry-After": "3"})
    )
    assert client.verify(platform.online_pass(), SCENARIO).eligible
    assert sleeps == [3.0]
    assert platform.count(VERIFY) == 2


def test_rate_limit_error_carries_retry_after(platform: FakePlatform, sleeps: list[float]):
    client = PartnerClient(BASE, API_KEY, http=platform.client(), sleep=sleeps.append, max_attempts=1)
    platform.verification_answers.append(
        (429, problem(429, "rate_limited", "Too many"), {"Retry-After": "7"})
    )
    with pytest.raises(RateLimitError) as caught:
        client.verify(platform.online_pass(), SCENARIO)
    assert caught.value.retry_after == 7.0
    assert sleeps == []


def test_a_gateway_error_without_problem_json(platform: FakePlatform, client: PartnerClient):
    bad_gateway = (502, "<html>Bad Gateway</html>", {"content-type": "text/html"})
    platform.verification_answers.extend([bad_gateway] * 3)
    with pytest.raises(ServerError) as caught:
        client.verify(platform.online_pass(), SCENARIO)
    assert (caught.value.status, caught.value.code) == (502, "http_502")


def test_connection_errors_are_retried_then_raised(
    platform: FakePlatform, client: PartnerClient, sleeps: list[float]
):
    platform.down = True
    with pytest.raises(APIConnectionError) as caught:
        client.verify(platform.online_pass(), SCENARIO)
    assert caught.value.code == "api_connection_error"
    assert len(sleeps) == 2  # three attempts


def test_api_key_shape_is_checked_and_never_shown():
    with pytest.raises(ValueError, match="xyk_"):
        PartnerClient(BASE, "sk_live_123")
    assert "a" * 20 not in repr(PartnerClient(BASE, API_KEY))


def test_report_offline_uses(platform: FakePlatform, client: PartnerClient):
    answer = client.report_offline_uses(
        [{"token": "a.b.c", "scenario": SCENARIO, "used_at": 1_800_000_000}], idempotency_key="batch-1"
    )
    assert [(i.index, i.status, i.verification_id, i.subject, i.code) for i in answer] == [
        (0, "recorded", "ver_0000", "psn_7Qx2", None)
    ]
    (request,) = platform.of("/v1/offline/reports")
    assert request.json() == {
        "items": [{"token": "a.b.c", "scenario": SCENARIO, "used_at": "2027-01-15T08:00:00Z"}]
    }
    assert request.headers["idempotency-key"] == "batch-1"


def test_a_report_answer_that_does_not_cover_every_item_is_an_error(
    platform: FakePlatform, client: PartnerClient
):
    uses = [{"token": f"a.b.{i}", "scenario": SCENARIO, "used_at": 1_800_000_000} for i in range(2)]
    for answer in (report_answer("recorded"), {"accepted": 2}, report_answer("recorded", "lost")):
        platform.report_answers.append((200, answer, {}))
        with pytest.raises(APIError) as raised:
            client.report_offline_uses(uses)
        assert raised.value.code == "unexpected_response"


def test_an_httpx2_client_works_too(platform: FakePlatform, sleeps: list[float]):
    """fastapi.testclient.TestClient is an httpx2 client: its network errors count as connection errors."""
    httpx2 = pytest.importorskip("httpx2")

    def refuse(request: object) -> object:
        raise httpx2.ConnectError("connection refused")

    down = httpx2.Client(transport=httpx2.MockTransport(refuse))
    client = PartnerClient(BASE, API_KEY, http=down, sleep=sleeps.append, rng=lambda: 0.0, max_attempts=2)
    with pytest.raises(APIConnectionError):
        client.verify(platform.online_pass(), SCENARIO)
    assert sleeps == [0.25]
