"""One structured access line per request, from the app itself: method, route template, status,
duration_ms and the request id; and failures on the database or Redis counted on /metrics."""

from __future__ import annotations

import json

import psycopg
import redis
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from tests.core.test_logging import capture_json_logs


def access_lines(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [x for x in lines if x.get("logger") == "app.access"]


def test_each_request_is_one_line_with_its_route_status_duration_and_request_id(client: TestClient) -> None:
    logs = capture_json_logs()
    ok = client.get("/healthz", headers={"X-Request-Id": "req-from-the-proxy-1"})
    missing = client.get("/v1/me/passes/pas_0123456789ab.svg")  # no token: 401
    [first, second] = access_lines(logs.getvalue())
    assert ok.status_code == 200 and missing.status_code == 401
    assert {k: first[k] for k in ("method", "route", "status", "request_id", "level")} == {
        "method": "GET",
        "route": "/healthz",
        "status": 200,
        "request_id": "req-from-the-proxy-1",
        "level": "info",
    }
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert (second["route"], second["status"]) == ("/v1/me/passes/{pass_id}.svg", 401)
    assert second["request_id"] == missing.headers["x-request-id"]
    assert "pas_0123456789ab" not in json.dumps([first, second])  # the template, never the path with its id


def test_a_request_failing_on_the_database_or_redis_is_logged_as_503_and_counted(app, client) -> None:
    def database_down() -> None:
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection"))

    def redis_down() -> None:
        raise redis.ConnectionError("Connection refused")

    app.add_api_route("/test/database-down", database_down)
    app.add_api_route("/test/redis-down", redis_down)

    def count(name: str, error: str) -> float:
        return REGISTRY.get_sample_value(name, {"error": error}) or 0.0

    db_before = count("xinyi_db_errors_total", "OperationalError")
    redis_before = count("xinyi_redis_errors_total", "ConnectionError")
    logs = capture_json_logs()
    assert client.get("/test/database-down").status_code == 503  # an outage: retry, not a bug
    assert client.get("/test/redis-down").status_code == 503
    assert [(x["route"], x["status"]) for x in access_lines(logs.getvalue())] == [
        ("/test/database-down", 503),
        ("/test/redis-down", 503),
    ]
    assert count("xinyi_db_errors_total", "OperationalError") == db_before + 1
    assert count("xinyi_redis_errors_total", "ConnectionError") == redis_before + 1
