"""The partner API client (sync): every partner kind's methods, with retries and idempotency keys.

    with PartnerClient("https://xinyi.example", api_key="xyk_…") as client:
        result = client.verify(token, "deposit_free_rental")
        for referral in client.list_referrals(status="referred"):   # every page, fetched as you go
            ...

Every POST carries an ``Idempotency-Key`` (made here unless you pass one). Connection errors, timeouts,
5xx, 429 and ``409 idempotency_request_in_progress`` are retried with exponential backoff and jitter
(honouring ``Retry-After``), always with the same key, so a retried verification is never counted twice.
Anything else raises the typed :class:`APIError` at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from xinyi_partner._http import DEFAULT_TIMEOUT, Http, HttpClient, HttpResponse
from xinyi_partner.calls import Call, ListCall, Pager, new_idempotency_key
from xinyi_partner.errors import (
    APIConnectionError,
    APIError,
    ConflictError,
    RateLimitError,
    ServerError,
)
from xinyi_partner.resources import PartnerAPI, data_providers

T = TypeVar("T")
_RETRY_STATUSES = {500, 502, 503, 504}


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in _RETRY_STATUSES
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, ConflictError) and exc.code == "idempotency_request_in_progress"


class Backoff:
    """Exponential backoff with full jitter, at least the server's ``Retry-After``, at most ``cap``."""

    def __init__(self, initial: float, cap: float, rng: Callable[[], float]) -> None:
        self.initial, self.cap, self.rng = initial, cap, rng

    def __call__(self, state: RetryCallState) -> float:
        ceiling = min(self.cap, self.initial * 2.0 ** (state.attempt_number - 1))
        wait = ceiling * (0.5 + self.rng() / 2)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, APIError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return min(wait, self.cap)


class RetryPolicy:
    """What both clients share: the key (checked here, never shown), the retry rule and its backoff."""

    def __init__(
        self,
        api_key: str,
        max_attempts: int,
        backoff_initial: float,
        backoff_max: float,
        rng: Callable[[], float],
    ) -> None:
        if not api_key or not api_key.startswith("xyk_"):
            raise ValueError("api_key must be a partner API key (xyk_…)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.api_key = api_key
        self.max_attempts = max_attempts
        self.backoff = Backoff(backoff_initial, backoff_max, rng)

    def headers(self, method: str, idempotency_key: str | None) -> dict[str, str]:
        """The key, and an ``Idempotency-Key`` on every POST (a fresh one unless given)."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        elif idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def retrying(self, retry: bool) -> dict[str, Any]:
        """Keyword arguments of tenacity's ``Retrying`` / ``AsyncRetrying`` (``sleep`` aside)."""
        return {
            "stop": stop_after_attempt(self.max_attempts if retry else 1),
            "wait": self.backoff,
            "retry": retry_if_exception(is_retryable),
            "reraise": True,
        }

    def describe(self, client: str, base_url: str) -> str:
        return f"{client}({base_url!r}, api_key='{self.api_key[:12]}…')"


class PartnerClient(PartnerAPI):
    """Authenticated calls to the partner API with an API key (``xyk_…``); its methods (one per request,
    see :class:`~xinyi_partner.resources.PartnerAPI`) return typed answers, lists a :class:`Pager`.

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
        self._policy = RetryPolicy(api_key, max_attempts, backoff_initial, backoff_max, rng)
        self._http = Http(base_url, http=http, timeout=timeout)
        self._sleep = sleep
        self.base_url = self._http.base_url

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the key
        return self._policy.describe("PartnerClient", self.base_url)

    def run(self, call: Call[T]) -> T:
        """Send one described request (with retries) and read its answer."""
        response = self.request(call.method, call.path, json=call.json, idempotency_key=call.idempotency_key)
        return call.read(response)

    def pager(self, call: ListCall[T]) -> Pager[T]:
        return Pager(self.run, call)

    def upload_records_file(
        self,
        path: str | Path,
        *,
        file_format: Literal["csv", "jsonl"] | None = None,
        batch_size: int = data_providers.MAX_BATCH_ROWS,
    ) -> data_providers.FileUpload:
        """A CSV or JSON Lines file of records, sent as batches of at most 10,000 rows; the refused rows
        come back numbered as in the file (see :func:`~xinyi_partner.resources.data_providers.file_batches`)."""
        upload = data_providers.FileUpload(Path(path).name)
        for batch in data_providers.file_batches(path, file_format=file_format, batch_size=batch_size):
            upload.add(batch, self.submit_records(batch.rows, idempotency_key=batch.idempotency_key))
        return upload

    # --- the generic call (for resources the SDK does not describe) ---------------------------------------

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
        headers = self._policy.headers(method, idempotency_key)
        for attempt in Retrying(sleep=self._sleep, **self._policy.retrying(retry)):
            with attempt:
                return self._http.send(method, path, body=json, headers=headers)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises or returns
