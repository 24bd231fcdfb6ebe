from __future__ import annotations

import io
import json
import logging

import structlog

from app.core.logging import scrub_text


def test_scrub_text_removes_ids_tokens_keys_and_phones() -> None:
    text = (
        "id 11010519491231002X and 110105194912310021x, jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x, "
        "key xyk_ABCDEFGH_secretsecretsecret, refresh rt_abcdefghijkl, Bearer abc.def, phone +8613812345678"
    )
    scrubbed = scrub_text(text)
    for secret in (
        "11010519491231002X",
        "eyJhbGciOiJIUzI1NiJ9",
        "secretsecretsecret",
        "rt_abcdefghijkl",
        "abc.def",
        "13812345678",
    ):
        assert secret not in scrubbed
    assert "[id-number]" in scrubbed
    assert "138****5678" in scrubbed
    # an 18-digit number inside a longer token is not an ID number, eleven digits in one not a phone
    assert scrub_text("order 1234567890123456789012") == "order 1234567890123456789012"
    assert scrub_text("req_b4133d13d31a14347632980d") == "req_b4133d13d31a14347632980d"
    assert scrub_text("手机13812345678, tel:8613812345678") == "手机138****5678, tel:138****5678"


def capture_json_logs() -> io.StringIO:
    buffer = io.StringIO()
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_xinyi", False):
            handler.setStream(buffer)  # type: ignore[attr-defined]
    return buffer


def test_structured_logs_are_json_and_redact_sensitive_fields(
    client,
) -> None:  # the client configures logging
    buffer = capture_json_logs()
    structlog.get_logger("test").info(
        "bound 11010519491231002X", id_number="11010519491231002X", api_key="xyk_x", note="phone 13812345678"
    )
    logging.getLogger("uvicorn.access").info("GET /v1/me?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig 200")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert lines[0]["event"] == "bound [id-number]"
    assert lines[0]["id_number"] == "[redacted]"
    assert lines[0]["api_key"] == "[redacted]"
    assert lines[0]["note"] == "phone 138****5678"
    assert lines[0]["level"] == "info"
    assert "eyJ" not in lines[1]["event"]


def test_an_unexpected_error_is_logged_once_with_its_request_id_and_without_secrets(app, client) -> None:
    from fastapi import APIRouter

    from app.core.idempotency import AppRoute

    router = APIRouter(route_class=AppRoute)

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("failed for 11010519491231002X")

    app.include_router(router)
    buffer = capture_json_logs()
    response = client.get("/boom")
    errors = [json.loads(line) for line in buffer.getvalue().splitlines() if '"unhandled_error"' in line]
    assert len(errors) == 1
    assert errors[0]["request_id"] == response.headers["x-request-id"]
    assert errors[0]["error_type"] == "RuntimeError"
    assert "11010519491231002X" not in buffer.getvalue()
    assert "[id-number]" in errors[0]["exception"]
