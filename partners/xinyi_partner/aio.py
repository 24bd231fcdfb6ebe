"""The async partner client: the same methods as :class:`~xinyi_partner.PartnerClient`, on
``httpx.AsyncClient``; each returns an awaitable, lists an :class:`~xinyi_partner.AsyncPager`.

    async with AsyncPartnerClient("https://xinyi.example", api_key="xyk_…") as client:
        async for referral in client.list_referrals(status="referred"):
            report = await client.get_referral_report(referral.id)
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from tenacity import AsyncRetrying

from xinyi_partner._http import DEFAULT_TIMEOUT, AsyncHttp, HttpResponse
from xinyi_partner.calls import AsyncPager, Call, ListCall
from xinyi_partner.online import RetryPolicy
from xinyi_partner.resources import PartnerAPI, data_providers

T = TypeVar("T")


class AsyncPartnerClient(PartnerAPI):
    """``http`` lets you pass your own ``httpx.AsyncClient`` (e.g. with ``httpx.ASGITransport(app)`` in
    tests); ``sleep`` is what waits between retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._policy = RetryPolicy(api_key, max_attempts, backoff_initial, backoff_max, rng)
        self._http = AsyncHttp(base_url, http=http, timeout=timeout)
        self._sleep = sleep
        self.base_url = self._http.base_url

    async def __aenter__(self) -> AsyncPartnerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:  # never show the key
        return self._policy.describe("AsyncPartnerClient", self.base_url)

    async def run(self, call: Call[T]) -> T:
        response = await self.request(
            call.method, call.path, json=call.json, idempotency_key=call.idempotency_key
        )
        return call.read(response)

    def pager(self, call: ListCall[T]) -> AsyncPager[T]:
        return AsyncPager(self.run, call)

    async def upload_records_file(
        self,
        path: str | Path,
        *,
        file_format: Literal["csv", "jsonl"] | None = None,
        batch_size: int = data_providers.MAX_BATCH_ROWS,
    ) -> data_providers.FileUpload:
        """As :meth:`PartnerClient.upload_records_file`."""
        upload = data_providers.FileUpload(Path(path).name)
        for batch in data_providers.file_batches(path, file_format=file_format, batch_size=batch_size):
            upload.add(batch, await self.submit_records(batch.rows, idempotency_key=batch.idempotency_key))
        return upload

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotency_key: str | None = None,
        retry: bool = True,
    ) -> HttpResponse:
        """As :meth:`PartnerClient.request`, awaited."""
        headers = self._policy.headers(method, idempotency_key)
        async for attempt in AsyncRetrying(sleep=self._sleep, **self._policy.retrying(retry)):
            with attempt:
                return await self._http.send(method, path, body=json, headers=headers)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises or returns
