"""/app is one page: served with the strict CSP, its scripts from this origin, never cached."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_the_resident_app_page(client: TestClient) -> None:
    response = client.get("/app")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self' 'wasm-unsafe-eval'" in response.headers["content-security-policy"]
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts == ['<script type="module" src="/static/resident/app.js">']
    assert " style=" not in response.text  # no inline style for the CSP to refuse
    module = client.get("/static/resident/app.js")
    assert (module.status_code, module.headers["content-type"].split(";")[0]) == (200, "text/javascript")


def test_a_trailing_slash_finds_the_app(client: TestClient) -> None:
    response = client.get("/app/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (308, "/app")
