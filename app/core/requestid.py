"""Request context: a request id on every response and log line, and a last-resort 500 as problem+json.

The id is taken from a sane incoming ``X-Request-Id`` or made here. Unexpected exceptions are caught here,
inside the id's scope, so even a 500 carries the request id (Starlette's own server-error handler runs
outside every middleware); a dependency that does not answer is a 503 instead (:mod:`app.core.outages`).
"""

from __future__ import annotations

import re
import secrets

import structlog
from starlette.types import Message, Receive, Scope, Send

from app.core import outages
from app.core.asgi import HttpMiddleware
from app.core.errors import internal_error_response

_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "x-request-id"

log = structlog.get_logger("app.request")


class RequestContextMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SANE.match(incoming) else "req_" + secrets.token_hex(12)
        # Bound for the log lines and the problem bodies (errors.current_request_id) alike.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            dependency = outages.unavailable_dependency(exc)
            if dependency is None:
                log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
            if started:
                raise
            if dependency is not None:
                await outages.unavailable_response(dependency, exc)(scope, receive, send_with_id)
            else:
                await internal_error_response()(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
