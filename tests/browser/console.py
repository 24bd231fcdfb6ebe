"""Helpers for the console's browser tests: staff made in the database (as ``xinyi admin create`` does),
residents with an open objection or repair application made through the API, and sign-in through the page."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from app.accounts import service as accounts_service
from app.audit import runs as audit_runs
from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.repairs import commitment
from app.signing.keyring import Keyring
from tests.browser import helpers
from tests.browser.resident import penalty, png, provider, push
from tests.helpers import make_phone, sign_in
from tests.passes.helpers import unique_id_number
from tests.rights.helpers import pdf_pages

# The whole-log verification walks every chain of the suite's shared database, which other tests keep
# adding to: on a loaded CI machine that takes seconds, so its answer gets a deadline of its own.
VERIFY_MS = 60_000


def walk_requested(engine: Engine, settings: Settings) -> None:
    """What the worker does with the walks of the audit log asked for: each walked, in order."""
    keyring = Keyring(Crypto(settings).cipher)
    while (run_id := audit_runs.claim_next(engine)) is not None:
        audit_runs.execute(engine, keyring, run_id)


def staff(engine: Engine, settings: Settings, *roles: str) -> str:
    """A user with ``roles``, committed; not yet signed in anywhere (no SMS code asked for). The phone."""
    phone = make_phone()
    with helpers.session_on(engine) as session:
        user = accounts_service.get_or_create_user_by_phone(session, Crypto(settings), phone)
        user.roles = sorted(roles)
        session.add(user)
        session.commit()
    return phone


def sign_in_to_console(page: Page, sms: RecordingSender, phone: str) -> None:
    """Open /console and sign in with phone + SMS code, as a person would."""
    page.goto("/console")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    page.get_by_label("短信验证码").fill(sms.codes[phone])
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def _resident_with_penalty(
    http: httpx.Client, engine: Engine, sms: RecordingSender, days_ago: int
) -> dict[str, Any]:
    """A resident (陈静) with one general penalty decided ``days_ago``: headers, subject id, record, score."""
    signed = sign_in(http, sms, make_phone())  # type: ignore[arg-type]  # httpx.Client, the same calls
    headers = signed["headers"]
    id_number = unique_id_number()
    bound = http.put("/v1/me/identity", json={"name": "陈静", "id_number": id_number}, headers=headers)
    assert bound.status_code == 200, bound.text
    push(http, provider(engine), penalty(id_number, days_ago, "未按规定办理排污许可"))
    records = http.get("/v1/me/records", headers=headers).json()["data"]
    assert len(records) == 1, records
    return {
        "headers": headers,
        "subject_id": bound.json()["subject_id"],
        "record": records[0],
        "score_before": http.get("/v1/me/score", headers=headers).json(),
    }


def _evidence(
    http: httpx.Client, headers: dict[str, str], purpose: str, name: str, content: bytes, kind: str
) -> str:
    upload = http.post(
        "/v1/me/evidence", files={"file": (name, content, kind)}, data={"purpose": purpose}, headers=headers
    )
    assert upload.status_code == 201, upload.text
    return str(upload.json()["id"])


def resident_with_objection(http: httpx.Client, engine: Engine, sms: RecordingSender) -> dict[str, Any]:
    """A resident with one general penalty, who objected to it with a PNG as evidence (open, just filed).
    Returns the resident's headers, subject id, the objection and the score before."""
    resident = _resident_with_penalty(http, engine, sms, 86)
    proof = _evidence(http, resident["headers"], "objection", "复议决定书.png", png(), "image/png")
    objection = http.post(
        "/v1/me/objections",
        json={
            "record_id": resident["record"]["id"],
            "reason": "该处罚已被行政复议撤销，记录有误。",
            "evidence_ids": [proof],
        },
        headers={**resident["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert objection.status_code == 201, objection.text
    return {**resident, "objection": objection.json()}


def resident_with_repair(
    http: httpx.Client, engine: Engine, sms: RecordingSender, proof_pdf: bytes | None = None
) -> dict[str, Any]:
    """A resident whose general penalty is past its minimum publicity, who applied for repair with a PDF
    as proof (缴款凭证.pdf, two pages unless ``proof_pdf`` is given) and the signed commitment (pending,
    just received)."""
    resident = _resident_with_penalty(http, engine, sms, 200)
    content = pdf_pages(2) if proof_pdf is None else proof_pdf
    proof = _evidence(http, resident["headers"], "repair", "缴款凭证.pdf", content, "application/pdf")
    repair = http.post(
        "/v1/me/repairs",
        json={
            "record_id": resident["record"]["id"],
            "correction_statement": "已足额缴纳罚款并完成整改。",
            "evidence_ids": [proof],
            "commitment": {"version": commitment.CURRENT_VERSION, "signed_name": "陈静", "accepted": True},
        },
        headers={**resident["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert repair.status_code == 201, repair.text
    return {**resident, "repair": repair.json()}
