"""Cursor pagination, Stripe style: ``limit`` and ``starting_after`` (an id from the previous page).

Ids are time-ordered (``app.core.ids``), so newest-first is id-descending and a cursor is just an id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from app.core.errors import AppError

T = TypeVar("T")
R = TypeVar("R")


class InvalidCursor(AppError):
    status = 400
    code = "invalid_cursor"
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__(
            "starting_after must be the id of an item of this list (from the previous page).",
            param="starting_after",
        )


class PageParams(BaseModel):
    limit: int
    starting_after: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="How many items, 1-100.")] = 20,
    starting_after: Annotated[
        str | None, Query(max_length=64, description="Id of the last item of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, starting_after=starting_after)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    object: str = "list"
    data: list[T]
    has_more: bool


def page_of(found: tuple[Sequence[R], bool], show: Callable[[R], T]) -> Page[T]:
    """The API's page of one page of rows (:func:`fetch_page`'s answer), each shown by ``show``."""
    rows, has_more = found
    return Page(data=[show(row) for row in rows], has_more=has_more)


def fetch_page(
    session: Session,
    statement: SelectOfScalar[Any],
    id_column: Any,
    params: PageParams,
) -> tuple[list[Any], bool]:
    """Newest first. Returns the rows of one page and whether there is another after it.

    ``id_column`` is the model's id attribute (``Partner.id``); SQLModel types it as ``str``, hence ``Any``.
    """
    if params.starting_after:
        # A cursor must name an item of this very list (this caller's, with these filters): one that names
        # nothing would silently restart at the first page, and a client could loop forever.
        if session.exec(statement.where(id_column == params.starting_after).limit(1)).first() is None:
            raise InvalidCursor()
        statement = statement.where(id_column < params.starting_after)
    rows = list(session.exec(statement.order_by(id_column.desc()).limit(params.limit + 1)).all())
    return rows[: params.limit], len(rows) > params.limit


__all__ = ["InvalidCursor", "Page", "PageParams", "PageParamsDep", "fetch_page", "page_params", "select"]
