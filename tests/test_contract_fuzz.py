"""A bounded schemathesis run over every operation of the OpenAPI document (issue 17): each operation is
called with generated data as every role that may call it (resident, operator, auditor, an API key of each
partner kind; anonymous for public operations), and every response must be no server error and match the
document: its status, content type, headers and schema. Deterministic (derandomized) and short."""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from typing import Any, cast

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import checks
from sqlmodel import Session

from app.core.sms import RecordingSender
from app.partners.service import ALLOWED_SCOPES
from tests.helpers import sign_in_with_role
from tests.passes import helpers

EXAMPLES_PER_OPERATION = 6
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Refusals of the caller, not of the data: a role answered this way may not call the operation.
_NOT_YOURS = {"missing_credentials", "user_required", "partner_required", "role_required", "scope_required"}


def _roles(client: TestClient, sms: RecordingSender, db: Session) -> dict[str, dict[str, str]]:
    roles = {"resident": helpers.resident(client, sms)["headers"]}
    for role in ("operator", "auditor"):
        roles[role] = sign_in_with_role(client, sms, db, role)
    for kind, scopes in ALLOWED_SCOPES.items():
        roles[kind.value] = helpers.partner(db, kind.value, sorted(scopes))["headers"]
    return roles


def _may_call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> bool:
    probe = client.request(method, re.sub(r"\{[^}]+\}", "x", path), headers=headers)
    return not (probe.status_code in (401, 403) and probe.json().get("code") in _NOT_YOURS)


def _fuzz(
    client: TestClient,
    operation: Any,
    callers: dict[str, dict[str, str]],
    tried: Counter[str],
    failures: list[str],
) -> None:
    """A few generated cases of one operation, each sent as every caller; failures noted, not raised."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        for name, headers in callers.items():
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            sent_headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "connection"}
            response = client.request(
                kwargs["method"],
                kwargs["url"],
                params=kwargs.get("params") or None,
                headers=sent_headers,
                json=kwargs.get("json"),
                content=kwargs.get("data"),
                files=kwargs.get("files"),
            )
            tried[f"{response.status_code // 100}xx"] += 1
            response.request.read()  # a multipart body is sent as a stream; the checks read it again
            try:
                case.validate_response(response, checks=CHECKS, headers=sent_headers)
            except (Exception, BaseExceptionGroup) as failure:  # schemathesis' FailureGroup: each check
                failures.append(f"{case.method} {operation.path} as {name}: {str(failure)[:700]}")
                return

    run()


def test_every_operation_as_every_role_that_may_call_it(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # With a Stripe webhook secret, as in production (without one, deliveries are refused with a 503).
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"stripe_webhook_secret": SecretStr("whsec_fuzz")}
    )
    spec = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    roles = _roles(client, sms, db)
    tried: Counter[str] = Counter()
    failures: list[str] = []
    took: dict[str, float] = {}

    for result in schema.get_all_operations():
        operation = cast(Any, result).ok()  # raises on an operation the document cannot describe
        method = operation.method.upper()
        if operation.path.endswith("/stream"):
            continue  # an event stream does not end; tests/passes/test_live.py covers it
        callers = {
            name: headers
            for name, headers in roles.items()
            if _may_call(client, method, operation.path, headers)
        }
        if not operation.definition.raw.get("security"):
            callers["anonymous"] = {}

        started = time.monotonic()
        with contextlib.suppress(Unsatisfiable):
            _fuzz(client, operation, callers, tried, failures)
        took[f"{method} {operation.path}"] = time.monotonic() - started

    slowest = max(took.items(), key=lambda kv: kv[1])
    print(
        f"\nschemathesis: {len(took)} operations, {sum(tried.values())} requests, {dict(sorted(tried.items()))};"
        f" slowest {slowest[0]} {slowest[1]:.1f} s"
    )
    assert tried["5xx"] == 0
    assert failures == [], "\n\n".join(failures[:20])
