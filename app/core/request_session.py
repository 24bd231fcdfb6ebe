"""The request's session: the request owns the transaction (STYLE.md, :mod:`app.core.db`).

Two kinds of handler, one rule. A sync handler (``def``) gets a ``Session`` and runs on a worker thread.
A handler on the hot path (``async def``: verifying and issuing passes) gets an ``AsyncSession`` of the
async engine and calls the same domain functions through ``await session.run_sync(fn, ...)``, which
hands ``fn`` the ``Session`` underneath: one set of services, ``at_commit`` included, on either.

Re-exported by :mod:`app.core.db` (``from app.core.db import SessionDep``), which imports this module,
and FastAPI with it, only when asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

_S = TypeVar("_S", Session, AsyncSession)


@asynccontextmanager
async def _owned(session: _S, finish: Callable[[_S, bool], Awaitable[None]]) -> AsyncIterator[_S]:
    """The rule of both kinds: committed once the handler returned, rolled back on any error. Shielded,
    so a cancelled request (the client went away) still ends its transaction and gives back its
    connection."""
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await finish(session, False)
        raise
    with anyio.CancelScope(shield=True):
        await finish(session, True)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session. Making one does no I/O (the connection is taken on first use), so this
    runs on the event loop; only the commit or rollback at the end, when there is a transaction, goes
    to a worker thread. (A sync dependency costs a thread hop to enter and another to leave.)"""
    session = Session(request.app.state.engine, expire_on_commit=False)
    async with _owned(session, _finish) as owned:
        yield owned


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def _finish(session: Session, commit: bool) -> None:
    if session.in_transaction():
        await run_in_threadpool(_end, session, commit)
    else:  # nothing was read or written: no connection to give back
        session.close()


async def get_async_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's ``AsyncSession``, for handlers on the event loop: committed after the handler
    returned, rolled back on any error, as :func:`get_session`."""
    session = AsyncSession(request.app.state.async_engine, expire_on_commit=False)
    async with _owned(session, _finish_async) as owned:
        yield owned


async def _finish_async(session: AsyncSession, commit: bool) -> None:
    try:
        if commit:
            await session.commit()
        else:
            await session.rollback()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


# scope="function": the commit runs right after the handler returns, before the response is sent, so a
# client never sees 201 for a write that then failed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session, scope="function")]
