"""The request's edge (issue 17, findings 1, 6 and 12): body limits, 415, unstorable strings, strict
booleans, readable contract. In process; the real-server body test is in test_edge_server.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session

from app.core import edge
from app.core.openapi import _api_routes
from app.core.sms import RecordingSender
from tests.helpers import make_phone, table_snapshot
from tests.partners.conftest import operator
from tests.partners.helpers import bearer, create_key, create_partner

__all__ = ["operator"]

PROBLEM = "application/problem+json"


def _problem(response: Any) -> tuple[int, str, str | None]:
    assert response.headers["content-type"] == PROBLEM, response.text
    body = response.json()
    return response.status_code, body["code"], body["param"]


@pytest.fixture
def bank(client: TestClient, operator: dict[str, Any]) -> dict[str, Any]:
    partner = create_partner(client, operator, name="Edge Test Bank", kind="bank")
    key = create_key(client, operator, partner["id"])
    return {"id": partner["id"], "headers": bearer(key["secret"])}


# -- body limits --------------------------------------------------------------------------------------


def test_an_oversize_body_is_refused_from_its_content_length_before_anything_runs(
    client: TestClient, sms: RecordingSender
) -> None:
    # given a JSON body just past the default 64 KiB limit, to the unauthenticated sign-in call
    phone = make_phone()
    body = json.dumps({"phone": phone, "padding": "x" * edge.DEFAULT_MAX_BODY}).encode()

    # when
    response = client.post("/v1/auth/otp", content=body, headers={"Content-Type": "application/json"})

    # then 413, and no code was sent
    assert _problem(response) == (413, "payload_too_large", None)
    assert phone not in sms.codes


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    client: TestClient, sms: RecordingSender
) -> None:
    # given a chunked body (no Content-Length) that grows past 64 KiB
    phone = make_phone()
    sent = []

    def chunks() -> Iterator[bytes]:
        yield b'{"phone": "' + phone.encode() + b'", "padding": "'
        for _ in range(1000):  # 1000 x 1 KiB
            sent.append(1)
            yield b"x" * 1024
        yield b'"}'

    # when
    response = client.post("/v1/auth/otp", content=chunks(), headers={"Content-Type": "application/json"})

    # then 413 as soon as the count passes the limit, not after the whole body
    assert _problem(response) == (413, "payload_too_large", None)
    assert "chunked" in response.request.headers.get("transfer-encoding", "")
    assert phone not in sms.codes


@pytest.fixture
def provider(client: TestClient, operator: dict[str, Any]) -> dict[str, str]:
    """A data provider's headers for posting a JSON record batch (each call adds its Idempotency-Key)."""
    partner = create_partner(client, operator, name="Edge Provider", kind="data_provider")
    return {
        **bearer(create_key(client, operator, partner["id"])["secret"]),
        "Content-Type": "application/json",
    }


def _batch(client: TestClient, provider: dict[str, str], body: bytes, key: str) -> Any:
    return client.post("/v1/records/batches", content=body, headers={**provider, "Idempotency-Key": key})


def _long_rows(count: int) -> list[dict[str, str]]:
    return [{"source_record_id": f"edge-{i}", "category": "nope", "title": "标题" * 90} for i in range(count)]


def test_a_record_batch_may_be_larger_than_the_default_and_is_parsed_off_the_loop(
    client: TestClient, provider: dict[str, str]
) -> None:
    # given a batch of 400 rows with long titles (about 200 KiB)
    body = json.dumps({"records": _long_rows(400)}, ensure_ascii=False).encode()
    assert len(body) > edge.DEFAULT_MAX_BODY

    # when
    response = _batch(client, provider, body, "edge-batch-1")

    # then it was read and every row judged (each refused for its unknown category)
    assert response.status_code == 201, response.text
    assert (response.json()["received"], response.json()["rejected"]) == (400, 400)


def test_a_nul_deep_in_a_large_record_batch_is_422_naming_the_row(
    client: TestClient, provider: dict[str, str], db: Session
) -> None:
    rows = _long_rows(400)
    rows[399]["title"] = "before\x00after"
    body = json.dumps({"records": rows}, ensure_ascii=False).encode()
    assert len(body) > edge.DEFAULT_MAX_BODY  # scanned on a worker thread
    before = table_snapshot(db)

    response = _batch(client, provider, body, "edge-batch-nul")

    assert _problem(response) == (422, "unstorable_string", "records.399.title")
    assert table_snapshot(db) == before


def test_a_record_batch_past_its_own_limit_is_refused(client: TestClient, provider: dict[str, str]) -> None:
    response = _batch(client, provider, b"[" + b" " * edge.RECORD_BATCH_MAX_BODY + b"]", "edge-batch-2")
    assert _problem(response) == (413, "payload_too_large", None)


def test_a_record_batch_that_is_not_json_or_not_a_batch_names_the_problem(
    client: TestClient, provider: dict[str, str]
) -> None:
    broken = _batch(client, provider, b'{"records": [', "a")
    wrong = _batch(client, provider, b'{"records": 3}', "b")
    assert _problem(broken) == (400, "invalid_json", None)
    assert _problem(wrong) == (422, "invalid_request", "records")


# -- content types ------------------------------------------------------------------------------------


def test_a_json_route_refuses_another_content_type_with_415(client: TestClient, sms: RecordingSender) -> None:
    phone = make_phone()
    form = client.post("/v1/auth/otp", data={"phone": phone})
    text = client.post(
        "/v1/auth/otp", content=json.dumps({"phone": phone}), headers={"Content-Type": "text/plain"}
    )
    assert _problem(form) == (415, "unsupported_media_type", "Content-Type")
    assert _problem(text) == (415, "unsupported_media_type", "Content-Type")
    assert phone not in sms.codes
    # while JSON (and a +json type) is read
    ok = client.post(
        "/v1/auth/otp",
        content=json.dumps({"phone": phone}),
        headers={"Content-Type": "application/vnd.x+json"},
    )
    assert ok.status_code == 202, ok.text


# -- strings PostgreSQL cannot store ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, param",
    [
        (rb'{"url": "https://bank.example/\u0000"}', "url"),
        (rb'{"url": "https://bank.example/", "description": "a\ud800b"}', "description"),
        (rb'{"url": "https://bank.example/", "\u0000": 1}', "(key)"),
    ],
)
def test_a_nul_or_lone_surrogate_in_a_body_is_422_naming_the_field(
    client: TestClient, bank: dict[str, Any], db: Session, raw: bytes, param: str, caplog: Any
) -> None:
    before = table_snapshot(db)
    response = client.post(
        "/v1/partner/webhook-endpoints",
        content=raw,
        headers={**bank["headers"], "Content-Type": "application/json"},
    )
    assert _problem(response) == (422, "unstorable_string", param)
    assert table_snapshot(db) == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(
    client: TestClient, bank: dict[str, Any]
) -> None:
    raw = rb'{"url": "https://bank.example/hooks", "description": "\ud83d\ude00 C:\\u0000"}'
    response = client.post(
        "/v1/partner/webhook-endpoints",
        content=raw,
        headers={**bank["headers"], "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "😀 C:\\u0000"


def test_a_nul_in_a_path_or_query_parameter_is_422_unauthenticated_too(
    client: TestClient, bank: dict[str, Any], caplog: Any
) -> None:
    in_path = client.get("/v1/partner/webhook-endpoints/whe_%00x", headers=bank["headers"])
    in_query = client.get(
        "/v1/partner/webhook-endpoints", params={"starting_after": "whe_\x00"}, headers=bank["headers"]
    )
    anonymous = client.get("/v1/scenarios/%00")
    assert _problem(in_path) == (422, "unstorable_string", "endpoint_id")
    assert _problem(in_query) == (422, "unstorable_string", "starting_after")
    assert _problem(anonymous)[:2] == (422, "unstorable_string")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# -- strict booleans, cursors -------------------------------------------------------------------------


def test_zero_is_not_a_boolean(client: TestClient, bank: dict[str, Any], db: Session) -> None:
    created = client.post(
        "/v1/partner/webhook-endpoints", json={"url": "https://bank.example/hooks"}, headers=bank["headers"]
    ).json()
    before = table_snapshot(db)
    response = client.patch(
        f"/v1/partner/webhook-endpoints/{created['id']}", json={"enabled": 0}, headers=bank["headers"]
    )
    assert _problem(response) == (422, "invalid_request", "enabled")
    assert table_snapshot(db) == before


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models(arg)


def test_every_boolean_of_every_request_body_is_strict(app: Any) -> None:
    # A guard over the whole API: a new body model with a lax bool fails here.
    lax = []
    seen: set[type[BaseModel]] = set()
    queue = [
        m
        for r in _api_routes(app.routes)
        if r.body_field
        for m in _models(r.body_field.field_info.annotation)
    ]
    while queue:
        model = queue.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            queue.extend(_models(field.annotation))
            if bool in (field.annotation, *get_args(field.annotation)) and not any(
                getattr(m, "strict", False) for m in field.metadata
            ):
                lax.append(f"{model.__name__}.{name}")
    assert seen, "no body models found"
    assert lax == []


def test_a_cursor_that_names_nothing_is_400_not_the_first_page(
    client: TestClient, bank: dict[str, Any]
) -> None:
    client.post(
        "/v1/partner/webhook-endpoints", json={"url": "https://bank.example/a"}, headers=bank["headers"]
    )
    response = client.get(
        "/v1/partner/webhook-endpoints", params={"starting_after": "whe_nope"}, headers=bank["headers"]
    )
    assert _problem(response) == (400, "invalid_cursor", "starting_after")


# -- the OpenAPI contract -----------------------------------------------------------------------------


def test_openapi_documents_every_error_as_problem_json_with_readable_names(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert [name for name in spec["components"]["schemas"] if "__" in name] == []
    undocumented = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "503" not in responses:
                undocumented.append(f"{method} {path}")
            for status, response in responses.items():
                if int(status) >= 400 and list(response.get("content", {})) != [PROBLEM]:
                    undocumented.append(f"{method} {path} {status}")
    assert undocumented == []
    verify = spec["paths"]["/v1/verifications"]["post"]["responses"]
    assert {"401", "403", "409", "413", "415", "422", "503"} <= set(verify)
    decision = spec["components"]["schemas"]["LoanDecisionIn"]["properties"]["reason"]
    assert "credit_history" in decision["enum"]
    batch = spec["paths"]["/v1/records/batches"]["post"]["requestBody"]["content"]["application/json"]
    assert "records" in batch["schema"]["properties"]


def test_every_route_has_a_body_limit_and_large_ones_are_named(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    limits = {
        (path, method): operation[edge.LIMIT_EXTENSION]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if edge.LIMIT_EXTENSION in operation
    }
    assert limits == {
        ("/v1/records/batches", "post"): edge.RECORD_BATCH_MAX_BODY,
        ("/v1/records/files", "post"): edge.RECORD_BATCH_MAX_BODY,
        ("/v1/partners/{partner_id}/record-batches", "post"): edge.RECORD_BATCH_MAX_BODY,
        ("/v1/partners/{partner_id}/record-files", "post"): edge.RECORD_BATCH_MAX_BODY,
        ("/v1/me/evidence", "post"): edge.EVIDENCE_MAX_BODY,
        ("/v1/offline/reports", "post"): edge.LIST_MAX_BODY,
        ("/v1/stripe/webhook", "post"): edge.LIST_MAX_BODY,
    }
