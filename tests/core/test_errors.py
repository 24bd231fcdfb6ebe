"""Every error is problem+json with a stable code, the param and the request id; never a bare 500."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

from app.core.idempotency import AppRoute

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["param"] == param
    assert body["type"].endswith("/" + code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_every_response_has_a_request_id(client: TestClient) -> None:
    first = client.get("/healthz")
    second = client.get("/healthz")
    assert first.json() == {"status": "ok"}
    assert first.headers["x-request-id"].startswith("req_")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-Id": "lb-0123456789"}).headers["x-request-id"]
        == "lb-0123456789"
    )
    replaced = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["x-request-id"]
    assert replaced.startswith("req_")


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    assert_problem(client.get("/v1/nowhere"), 404, "not_found")


def test_wrong_method_is_problem_json(client: TestClient) -> None:
    assert_problem(client.delete("/healthz"), 405, "method_not_allowed")


def test_validation_error_names_the_field_without_echoing_it(client: TestClient) -> None:
    response = client.post(
        "/v1/auth/token", json={"phone": "13800000001", "code": "1" * 50, "challenge": "otc_x"}
    )
    body = assert_problem(response, 422, "invalid_request", "code")
    assert "1" * 50 not in response.text
    assert body["errors"][0]["param"] == "code"


def test_missing_field_is_named(client: TestClient) -> None:
    assert_problem(client.post("/v1/auth/otp", json={}), 422, "invalid_request", "phone")


def test_malformed_json_is_a_clear_400(client: TestClient) -> None:
    response = client.post("/v1/auth/otp", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_json")


def test_unexpected_exception_is_a_problem_500_with_request_id(app, client: TestClient) -> None:
    router = APIRouter(route_class=AppRoute)

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail 11010519491231002X")

    app.include_router(router)
    response = client.get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text
    assert body["detail"] == "Something went wrong on our side."


def test_missing_credentials_are_401_with_challenge(client: TestClient) -> None:
    response = client.get("/v1/me")
    assert_problem(response, 401, "missing_credentials", "Authorization")
    assert response.headers["www-authenticate"] == "Bearer"


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/auth/otp" in spec["paths"]


def test_readyz_ok_when_database_and_store_answer(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "store": "ok"}}


def test_readyz_503_when_the_store_is_down(app, client: TestClient) -> None:
    app.state.store.ping = lambda: False
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "store": "unavailable"}}


def test_readyz_503_when_the_database_is_down(app, client: TestClient) -> None:
    from app.core.db import make_engine

    app.state.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "unavailable", "store": "ok"}
    assert client.get("/healthz").status_code == 200
