"""The partner API's surface, written once for the sync and the async client.

Each method is a plain function that describes one request (:class:`Call`: method, path, body and how to
read the answer) or one list (:class:`ListCall`). :class:`operation` and :class:`listing` turn those
functions into methods: on a :class:`~xinyi_partner.PartnerClient` they return the answer, on an
:class:`~xinyi_partner.AsyncPartnerClient` an awaitable of it (a list: a :class:`Pager` or an
:class:`AsyncPager` that fetches page after page as you iterate). mypy sees both signatures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from xinyi_partner._http import HttpResponse, json_body
from xinyi_partner.errors import APIError

if TYPE_CHECKING:
    from xinyi_partner.aio import AsyncPartnerClient
    from xinyi_partner.online import PartnerClient

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_PAGE_SIZE = 100  # the API's largest ``limit``


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def with_query(path: str, query: Mapping[str, object | None]) -> str:
    """``path?a=1&b=2`` with the ``None`` values left out (booleans as ``true``/``false``)."""
    values = {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in query.items()
        if value is not None
    }
    return f"{path}?{urlencode(values)}" if values else path


def unexpected(why: str, body: Any = None, status: int = 200) -> APIError:
    return APIError(why, status=status, code="unexpected_response", body=body)


def model(cls: type[M], body: Any) -> M:
    """``body`` as ``cls``, or the typed ``unexpected_response`` error when the answer is not that shape."""
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        raise unexpected(
            f"The answer is not a {cls.__name__}: {exc.error_count()} field(s) differ.", body
        ) from exc


def answer(cls: type[M]) -> Callable[[HttpResponse], M]:
    """Read a JSON answer as ``cls``."""
    return lambda response: model(cls, json_body(response))


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: a POST always carries an ``Idempotency-Key`` (this one, made here unless given, is
    reused by every retry)."""

    method: str
    path: str
    read: Callable[[HttpResponse], T]
    json: Any = None
    idempotency_key: str | None = None

    @classmethod
    def get(cls, path: str, read: Callable[[HttpResponse], T]) -> Call[T]:
        return cls("GET", path, read)

    @classmethod
    def post(
        cls,
        path: str,
        read: Callable[[HttpResponse], T],
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Call[T]:
        return cls("POST", path, read, json, idempotency_key or new_idempotency_key())


@dataclass(frozen=True)
class Page(Generic[T]):
    data: list[T]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        return str(getattr(self.data[-1], "id")) if self.data else None  # noqa: B009 - any item type


@dataclass(frozen=True)
class ListCall(Generic[T]):
    """A cursor-paginated list (``limit``, ``starting_after`` = the id of the last item seen)."""

    path: str
    item: Callable[[Any], T]
    query: Mapping[str, object | None] = field(default_factory=dict)
    limit: int = MAX_PAGE_SIZE
    starting_after: str | None = None

    def page(self, starting_after: str | None) -> Call[Page[T]]:
        query = {**self.query, "limit": self.limit, "starting_after": starting_after}
        return Call.get(with_query(self.path, query), self._read)

    def _read(self, response: HttpResponse) -> Page[T]:
        body = json_body(response)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise unexpected("The list answer has no 'data' list.", body, response.status_code)
        return Page([self.item(entry) for entry in body["data"]], bool(body.get("has_more")))


def list_call(
    path: str, cls: type[M], query: Mapping[str, object | None], limit: int, starting_after: str | None
) -> ListCall[M]:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit is a page size of 1-{MAX_PAGE_SIZE}")
    return ListCall(path, lambda body: model(cls, body), query, limit, starting_after)


class Pager(Generic[T]):
    """Every item of a list, newest first, fetching the next page only when you get to it."""

    def __init__(self, run: Callable[[Call[Page[T]]], Page[T]], call: ListCall[T]) -> None:
        self._run, self._call = run, call

    def pages(self) -> Iterator[Page[T]]:
        cursor = self._call.starting_after
        while True:
            page = self._run(self._call.page(cursor))
            yield page
            if not page.has_more or page.last_id is None:
                return
            cursor = page.last_id

    def first_page(self) -> Page[T]:
        return next(self.pages())

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncPager(Generic[T]):
    """The same for the async client: ``async for item in pager``."""

    def __init__(self, run: Callable[[Call[Page[T]]], Awaitable[Page[T]]], call: ListCall[T]) -> None:
        self._run, self._call = run, call

    async def pages(self) -> AsyncIterator[Page[T]]:
        cursor = self._call.starting_after
        while True:
            page = await self._run(self._call.page(cursor))
            yield page
            if not page.has_more or page.last_id is None:
                return
            cursor = page.last_id

    async def first_page(self) -> Page[T]:
        return await self._run(self._call.page(self._call.starting_after))

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item


def bind(build: Callable[..., Any], send: Callable[[Any], Any]) -> Callable[..., Any]:
    """The method a client sees: describe the request with ``build``, hand it to ``send``."""

    def method(*args: Any, **kwargs: Any) -> Any:
        return send(build(*args, **kwargs))

    method.__doc__ = build.__doc__
    return method


class operation(Generic[P, T]):
    """A method that sends one :class:`Call`: its answer (sync client) or an awaitable of it (async)."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: AsyncPartnerClient, owner: Any) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, client: PartnerClient, owner: Any) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: None, owner: Any) -> operation[P, T]: ...
    def __get__(self, client: Any, owner: Any) -> Any:
        return self if client is None else bind(self.build, client.run)


class listing(Generic[P, T]):
    """A method that returns a :class:`Pager` (sync client) or an :class:`AsyncPager` (async client)."""

    def __init__(self, build: Callable[P, ListCall[T]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: AsyncPartnerClient, owner: Any) -> Callable[P, AsyncPager[T]]: ...
    @overload
    def __get__(self, client: PartnerClient, owner: Any) -> Callable[P, Pager[T]]: ...
    @overload
    def __get__(self, client: None, owner: Any) -> listing[P, T]: ...
    def __get__(self, client: Any, owner: Any) -> Any:
        return self if client is None else bind(self.build, client.pager)
