"""Enterprises, banks with products and webhook endpoints, and applications, through the real API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.core.clock import business_date, utcnow
from app.core.sms import RecordingSender
from tests.helpers import make_uscc
from tests.passes import helpers as pass_helpers

PRODUCT = {
    "name": "小微信用贷",
    "min_level": "B",
    "min_amount_fen": 10_000_00,
    "max_amount_fen": 3_000_000_00,
    "min_term_months": 6,
    "max_term_months": 36,
    "min_rate_bps": 385,
    "max_rate_bps": 600,
}


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def enterprise(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    """A verified resident and the enterprise they registered: ``{"id", "subject_id", "uscc", "headers"}``."""
    admin = pass_helpers.resident(client, sms)
    uscc = make_uscc()
    response = client.post(
        "/v1/enterprises",
        json={"name": f"乌鲁木齐测试{uuid.uuid4().hex[:4]}有限公司", "uscc": uscc},
        headers=admin["headers"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "id": body["id"],
        "subject_id": body["subject_id"],
        "uscc": uscc,
        "headers": admin["headers"],
        "user": admin,
    }


def product(client: TestClient, bank: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/partner/loan-products", json={**PRODUCT, **overrides}, headers={**bank["headers"], **idem()}
    )
    assert response.status_code == 201, response.text
    return response.json()


def application_body(banks: list[str], **overrides: Any) -> dict[str, Any]:
    consent = {"agreed": True, "banks": banks, "expires_at": (utcnow() + timedelta(days=30)).isoformat()}
    consent.update(overrides.pop("consent", {}))
    return {
        "amount_fen": 500_000_00,
        "term_months": 12,
        "purpose": "采购原材料（流动资金）",
        "industry": "I",
        "consent": consent,
        **overrides,
    }


def apply(client: TestClient, firm: dict[str, Any], banks: list[str], **overrides: Any) -> Any:
    return client.post(
        f"/v1/enterprises/{firm['id']}/loan-applications",
        json=application_body(banks, **overrides),
        headers={**firm["headers"], **idem()},
    )


def records(client: TestClient, provider: dict[str, Any], firm: dict[str, Any], *categories: str) -> None:
    """A department pushes records about the enterprise (positive ones: honour, licences …)."""
    decided = (business_date() - timedelta(days=30)).isoformat()
    rows: list[dict[str, Any]] = []
    for category in categories:
        row: dict[str, Any] = {
            "source_record_id": f"r-{uuid.uuid4().hex[:12]}",
            "category": category,
            "uscc": firm["uscc"],
        }
        if category == "black_list":
            row |= {"legal_basis": "《失信被执行人名单》", "start_date": decided}
        else:
            row["decision_date"] = decided
        rows.append(row)
    response = client.post(
        "/v1/records/batches", json={"records": rows}, headers={**provider["headers"], **idem()}
    )
    assert response.status_code == 201, response.text
