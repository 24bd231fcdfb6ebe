"""The one HTTP layer: base URL joining, problem+json → typed errors, connection errors → APIConnectionError.

Any client with httpx's ``request(method, url, *, content=, headers=)`` works: an ``httpx.Client`` (the
default), or in tests ``fastapi.testclient.TestClient(app)`` / ``httpx.Client(transport=MockTransport(…))``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from xinyi_partner import __version__
from xinyi_partner.errors import APIConnectionError, APIError, api_error_class

USER_AGENT = f"xinyi-partner/{__version__}"
DEFAULT_TIMEOUT = 10.0

# Network failures of the client in use: httpx's, and httpx2's when the caller hands over an httpx2 client
# (fastapi.testclient.TestClient is one).
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
try:
    import httpx2

    TRANSPORT_ERRORS += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - httpx2 is optional
    pass


class HttpResponse(Protocol):
    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


class HttpClient(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any: ...


def default_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


class _Endpoint:
    """The platform's base URL and how one request is put together (shared by both senders)."""

    def __init__(self, base_url: str) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def prepare(
        self, path: str, body: Any, headers: Mapping[str, str] | None
    ) -> tuple[str, bytes | None, dict[str, str]]:
        """The URL, body bytes and headers of one request."""
        all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        return self.url(path), content, all_headers


class Http(_Endpoint):
    """``base_url`` + a client. Owns (and closes) the client only when it made it."""

    def __init__(self, base_url: str, *, http: HttpClient | None = None, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(base_url)
        self._owned = http is None
        self._client: HttpClient = http if http is not None else default_client(timeout)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """One attempt. Raises :class:`APIConnectionError` or an :class:`APIError` subclass for ≥ 400."""
        url, content, all_headers = self.prepare(path, body, headers)
        with connection_errors(method, path):
            response: HttpResponse = self._client.request(method, url, content=content, headers=all_headers)
        return checked(response)

    def close(self) -> None:
        if self._owned:
            close = getattr(self._client, "close", None)
            if close is not None:
                close()


class AsyncHttp(_Endpoint):
    """The same with an ``httpx.AsyncClient`` (made here unless given, and then closed here)."""

    def __init__(
        self, base_url: str, *, http: httpx.AsyncClient | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__(base_url)
        self._owned = http is None
        self._client = http if http is not None else default_async_client(timeout)

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        url, content, all_headers = self.prepare(path, body, headers)
        with connection_errors(method, path):
            response = await self._client.request(method, url, content=content, headers=all_headers)
        return checked(response)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()


def default_async_client(timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


@contextmanager
def connection_errors(method: str, path: str) -> Iterator[None]:
    """A network failure of the client in use becomes :class:`APIConnectionError`."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise APIConnectionError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc


def checked(response: HttpResponse) -> HttpResponse:
    if response.status_code >= 400:
        raise error_from_response(response)
    return response


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from this API, ignore


def json_body(response: HttpResponse) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise APIError(
            "The platform answered with a body that is not JSON.",
            status=response.status_code,
            code="unexpected_response",
            request_id=_header(response.headers, "X-Request-Id"),
        ) from exc


def error_from_response(response: HttpResponse) -> APIError:
    status = response.status_code
    cls = api_error_class(status)
    request_id = _header(response.headers, "X-Request-Id")
    retry_after = _retry_after(response.headers)
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        detail = body.get("detail") if isinstance(body.get("detail"), str) else None
        title = body.get("title") if isinstance(body.get("title"), str) else None
        return cls(
            detail or title or body["code"],
            status=status,
            code=body["code"],
            title=title,
            detail=detail,
            param=body.get("param") if isinstance(body.get("param"), str) else None,
            request_id=body.get("request_id") if isinstance(body.get("request_id"), str) else request_id,
            type=body.get("type") if isinstance(body.get("type"), str) else None,
            retry_after=retry_after,
            body=body,
        )
    return cls(
        f"HTTP {status} without a problem+json body",
        status=status,
        code=f"http_{status}",
        request_id=request_id,
        retry_after=retry_after,
        body=body,
    )
