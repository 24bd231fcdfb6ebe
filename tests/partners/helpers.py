"""Making partners and keys through the admin API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def create_partner(
    client: TestClient, operator: dict[str, Any], name: str = "Shenzhen PowerBank Co.", kind: str = "merchant"
) -> dict[str, Any]:
    response = client.post(
        "/v1/admin/partners", json={"name": name, "kind": kind}, headers=operator["headers"]
    )
    assert response.status_code == 201, response.text
    return response.json()


def create_key(client: TestClient, operator: dict[str, Any], partner_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/admin/partners/{partner_id}/api-keys", json=body, headers=operator["headers"]
    )
    assert response.status_code == 201, response.text
    return response.json()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
