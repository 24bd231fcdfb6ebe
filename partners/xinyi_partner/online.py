"""The partner API client: online verification, offline-use reports, and the seam for later resources.

    with PartnerClient("https://xinyi.example", api_key="xyk_…") as client:
        result = client.verify(token, "deposit_free_rental")

Every POST carries an ``Idempotency-Key`` (made here unless you pass one). Connection errors, timeouts,
5xx, 429 and ``409 idempotency_request_in_progress`` are retried with exponential backoff and jitter
(honouring ``Retry-After``), always with the same key, so a retried verification is never counted twice.
Anything else raises the typed :class:`APIError` at once.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from xinyi_partner._http import DEFAULT_TIMEOUT, Http, HttpClient, HttpResponse, json_body
from xinyi_partner.errors import (
    APIConnectionError,
    APIError,
    ConflictError,
    RateLimitError,
    ServerError,
)
from xinyi_partner.results import (
    REPORT_STATUSES,
    OfflineReportItem,
    OnlineResult,
    isoformat,
    parse_datetime,
)

VERIFICATIONS_PATH = "/v1/verifications"
OFFLINE_REPORTS_PATH = "/v1/offline/reports"
_RETRY_STATUSES = {500, 502, 503, 504}


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in _RETRY_STATUSES
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, ConflictError) and exc.code == "idempotency_request_in_progress"


class _Backoff:
    """Exponential backoff with full jitter, at least the server's ``Retry-After``, at most ``cap``."""

    def __init__(self, initial: float, cap: float, rng: Callable[[], float]) -> None:
        self.initial, self.cap, self.rng = initial, cap, rng

    def __call__(self, state: RetryCallState) -> float:
        ceiling = min(self.cap, self.initial * 2 ** (state.attempt_number - 1))
        wait = ceiling * (0.5 + self.rng() / 2)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, APIError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return min(wait, self.cap)


class PartnerClient:
    """Authenticated calls to the partner API with an API key (``xyk_…``).

    ``http`` lets you pass your own client (an ``httpx.Client``, or ``fastapi.testclient.TestClient`` in
    tests); ``sleep`` is what waits between retries (inject a no-op in tests). ``max_attempts`` counts the
    first try.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: HttpClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not api_key or not api_key.startswith("xyk_"):
            raise ValueError("api_key must be a partner API key (xyk_…)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._http = Http(base_url, http=http, timeout=timeout)
        self._api_key = api_key
        self.max_attempts = max_attempts
        self._backoff = _Backoff(backoff_initial, backoff_max, rng)
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the key
        return f"PartnerClient({self.base_url!r}, api_key='{self._api_key[:12]}…')"

    # --- resources -----------------------------------------------------------------------------------

    def verify(self, token: str, scenario: str, *, idempotency_key: str | None = None) -> OnlineResult:
        """``POST /v1/verifications``: the platform's decision for ``token`` in ``scenario``.

        Raises :class:`APIError` (its ``code`` says why: replayed, expired, tampered, unknown key, wrong
        scenario, not open to this partner…) or :class:`APIConnectionError`.
        """
        key = idempotency_key or new_idempotency_key()
        response = self.request(
            "POST",
            VERIFICATIONS_PATH,
            json={"token": token.strip(), "scenario": scenario},
            idempotency_key=key,
        )
        body = json_body(response)
        if not isinstance(body, dict) or body.get("decision") not in ("eligible", "not_eligible"):
            raise APIError(
                "The verification answer has no decision.",
                status=response.status_code,
                code="unexpected_response",
                body=body,
            )
        reason = body.get("reason")
        if isinstance(reason, dict):  # {"code", "label_zh", "label_en"} shape
            reason = reason.get("code")
        return OnlineResult(
            id=str(body.get("id", "")),
            decision=body["decision"],
            scenario=str(body.get("scenario", scenario)),
            reason=reason if isinstance(reason, str) else None,
            benefit=body.get("benefit"),
            subject=body.get("subject") if isinstance(body.get("subject"), str) else None,
            expires_at=parse_datetime(body.get("expires_at")),
            idempotency_key=key,
            replayed=_header(response.headers, "Idempotent-Replayed") == "true",
            raw=body,
        )

    def report_offline_uses(
        self, uses: Iterable[Any], *, idempotency_key: str | None = None
    ) -> list[OfflineReportItem]:
        """``POST /v1/offline/reports`` with ``{"items": [{"token", "scenario", "used_at"}]}`` (at most 100).

        ``uses`` are :class:`OfflineUse` (or mappings with those keys; ``used_at`` epoch seconds or an ISO
        string). Returns the platform's answer per item, in the order sent: ``recorded``, ``flagged``,
        ``duplicate`` or ``rejected`` (with a ``code``) — see :class:`OfflineReportItem`. Raises
        :class:`APIError` (``unexpected_response`` when the answer does not cover every item).
        """
        items = [_report_item(use) for use in uses]
        response = self.request(
            "POST",
            OFFLINE_REPORTS_PATH,
            json={"items": items},
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return parse_report(json_body(response), len(items), response.status_code)

    # --- the generic call (issue 5's rentals and later resources build on it) -----------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotency_key: str | None = None,
        retry: bool = True,
    ) -> HttpResponse:
        """One authenticated call with retries. A POST without ``idempotency_key`` gets a fresh one, reused
        for each retry. Raises :class:`APIError` / :class:`APIConnectionError`."""
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        elif idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts if retry else 1),
            wait=self._backoff,
            retry=retry_if_exception(is_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._http.send(method, path, body=json, headers=headers)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises or returns


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value if value is not None else headers.get(name.lower())


def parse_report(body: Any, expected: int, status: int = 200) -> list[OfflineReportItem]:
    """``{"object": "list", "data": [{"index", "status", "verification_id", "subject", "code", "detail"}]}``
    → one :class:`OfflineReportItem` per item sent, by ``index``."""

    def unexpected(why: str) -> APIError:
        return APIError(
            f"The offline report answer {why}.", status=status, code="unexpected_response", body=body
        )

    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise unexpected("has no 'data' list")
    found: dict[int, OfflineReportItem] = {}
    for entry in data:
        if not isinstance(entry, dict):
            raise unexpected("holds an item that is not an object")
        index, item_status = entry.get("index"), entry.get("status")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < expected:
            raise unexpected(f"holds an item with a bad index {index!r}")
        if item_status not in REPORT_STATUSES:
            raise unexpected(f"holds an item with an unknown status {item_status!r}")

        def text(name: str, entry: dict[str, Any] = entry) -> str | None:
            value = entry.get(name)
            return value if isinstance(value, str) else None

        found[index] = OfflineReportItem(
            index=index,
            status=item_status,
            verification_id=text("verification_id"),
            subject=text("subject"),
            code=text("code"),
            detail=text("detail"),
        )
    if len(found) != expected:
        raise unexpected(f"covers {len(found)} of the {expected} items sent")
    return [found[i] for i in range(expected)]


def _report_item(use: Any) -> dict[str, Any]:
    if isinstance(use, Mapping):
        token, scenario, used_at = use["token"], use["scenario"], use["used_at"]
    else:
        token, scenario, used_at = use.token, use.scenario, use.used_at
    if isinstance(used_at, int | float) and not isinstance(used_at, bool):
        used_at = isoformat(used_at)
    return {"token": token, "scenario": scenario, "used_at": used_at}
