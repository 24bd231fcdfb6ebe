"""信易贷 over the API: products, applications with narrow consent, referrals and their outbox events,
the bank's report fetch, decisions, outcomes, the enterprise's view, consent withdrawal, statistics."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.clock import business_date, utcnow
from app.core.sms import RecordingSender
from app.loans.models import LoanReferral
from app.partners.models import Partner
from app.webhooks.models import WebhookDelivery, WebhookEvent
from tests.helpers import table_snapshot
from tests.loans import helpers
from tests.passes import helpers as pass_helpers


@pytest.fixture
def firm(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    return helpers.enterprise(client, sms)


def _endpoint(
    client: TestClient, bank: dict[str, Any], url: str = "https://bank.example/hooks"
) -> dict[str, Any]:
    response = client.post("/v1/partner/webhook-endpoints", json={"url": url}, headers=bank["headers"])
    assert response.status_code == 201, response.text
    return response.json()


def test_products_are_published_by_banks_and_listed_publicly(client: TestClient, bank, other_bank):
    mine = helpers.product(client, bank, industries=["I", "C"], regions=["65"])
    inactive = helpers.product(client, other_bank, active=False)

    listed = client.get("/v1/loan-products", params={"bank_id": bank["id"]})
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["data"]] == [mine["id"]]
    assert listed.json()["data"][0]["bank"] == {"id": bank["id"], "name": "天山示范银行"}
    assert client.get(f"/v1/loan-products/{inactive['id']}").json()["code"] == "loan_product_not_found"
    fits = client.get("/v1/loan-products", params={"bank_id": bank["id"], "amount_fen": 1_00})
    assert fits.json()["data"] == []

    bad = client.post(
        "/v1/partner/loan-products",
        json={**helpers.PRODUCT, "min_amount_fen": 900_00, "max_amount_fen": 100_00},
        headers=bank["headers"],
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["param"]) == (
        422,
        "invalid_range",
        "max_amount_fen",
    )


def test_an_application_refers_each_matching_bank_and_writes_its_event_in_the_same_transaction(
    client: TestClient, db: Session, firm, bank, other_bank
):
    # given two banks with products, one with a webhook endpoint, and a third that serves no IT firms
    helpers.product(client, bank)
    helpers.product(client, other_bank, min_rate_bps=420)
    picky = pass_helpers.partner(db, "bank", name="只做制造业银行")
    helpers.product(client, picky, industries=["C"])
    endpoint = _endpoint(client, bank)

    # when the enterprise applies naming all three
    response = helpers.apply(client, firm, [bank["id"], other_bank["id"], picky["id"]])

    # then it is referred to the two that match; the third is explained
    assert response.status_code == 201, response.text
    application = response.json()
    assert (application["status"], application["reason"]["code"]) == ("referred", "level_met")
    assert application["region"] == firm["uscc"][2:8]
    assert application["consent"]["status"] == "active"
    assert sorted(application["consent"]["banks"]) == sorted([bank["id"], other_bank["id"], picky["id"]])
    assert {r["bank"]["id"]: r["status"] for r in application["referrals"]} == {
        bank["id"]: "referred",
        other_bank["id"]: "referred",
    }
    unmatched = [m for m in application["matches"] if not m["matched"]]
    assert [(m["bank"]["id"], [r["code"] for r in m["reasons"]]) for m in unmatched] == [
        (picky["id"], ["industry_not_served"])
    ]
    assert application["report"]["level"] == "B"

    # and each referral has its referral.created event in the outbox; only the bank with an endpoint
    # has a delivery waiting
    referrals = db.exec(select(LoanReferral).where(LoanReferral.application_id == application["id"])).all()
    events = {e.id: e for e in db.exec(select(WebhookEvent)).all() if e.id in {r.event_id for r in referrals}}
    assert len(events) == 2
    for referral in referrals:
        body = json.loads(events[referral.event_id].body)
        assert body["type"] == "referral.created"
        assert body["data"]["referral_id"] == referral.id
        assert body["data"]["amount_fen"] == 500_000_00
        assert "uscc" not in body["data"] and "name" not in body["data"]
    deliveries = db.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])).all()
    assert [(d.status, d.partner_id) for d in deliveries] == [("pending", bank["id"])]

    # and each referral is a disclosure naming the consent, in the enterprise's audit chain
    entries = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == firm["subject_id"], AuditEntry.action == "loan.referred"
        )
    ).all()
    assert {e.details["referral_id"] for e in entries} == {r.id for r in referrals}
    assert {e.details["consent_id"] for e in entries} == {application["consent"]["id"]}


@pytest.mark.parametrize(
    ("consent", "code"),
    [
        ({"expires_at": None}, "consent_open_ended"),
        ({"expires_at": "2099-01-01T00:00:00+00:00"}, "consent_too_long"),
        ({"agreed": False}, "consent_not_given"),
        ({"banks": []}, "invalid_request"),
    ],
)
def test_consent_must_be_explicit_and_narrow(client: TestClient, db: Session, firm, bank, consent, code):
    helpers.product(client, bank)
    before = table_snapshot(db)
    response = helpers.apply(client, firm, [bank["id"]], consent=consent)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert table_snapshot(db) == before


def test_a_consent_of_ninety_days_is_accepted(client: TestClient, firm, bank):
    helpers.product(client, bank)
    expires = (utcnow() + timedelta(days=90) - timedelta(minutes=1)).isoformat()
    response = helpers.apply(client, firm, [bank["id"]], consent={"expires_at": expires})
    assert response.status_code == 201, response.text


def test_naming_a_partner_that_is_not_a_bank_is_refused(client: TestClient, db: Session, firm, bank):
    merchant = pass_helpers.partner(db, "merchant")
    response = helpers.apply(client, firm, [bank["id"], merchant["id"]])
    assert (response.status_code, response.json()["code"]) == (422, "unknown_bank")


def test_a_black_listed_enterprise_is_told_why_and_no_bank_hears_of_it(
    client: TestClient, db: Session, firm, bank
):
    helpers.product(client, bank)
    court = pass_helpers.partner(db, "data_provider", ["records:write"])
    helpers.records(client, court, firm, "black_list")

    response = helpers.apply(client, firm, [bank["id"]])

    assert response.status_code == 201, response.text
    application = response.json()
    assert application["status"] == "not_eligible"
    assert application["reason"]["code"] == "restricted"
    assert application["reason"]["labels"]["en"] == "Subject currently restricted (joint punishment)"
    assert application["referrals"] == [] and application["matches"] == []
    assert db.exec(select(LoanReferral).where(LoanReferral.partner_id == bank["id"])).all() == []


def test_no_matching_product_is_explained_per_bank(client: TestClient, firm, bank, other_bank):
    helpers.product(client, bank, min_level="AA")
    response = helpers.apply(client, firm, [bank["id"], other_bank["id"]])
    application = response.json()
    assert (application["status"], application["reason"]["code"]) == ("no_match", "no_matching_product")
    assert {m["bank"]["id"]: [r["code"] for r in m["reasons"]] for m in application["matches"]} == {
        bank["id"]: ["level_below_product_minimum"],
        other_bank["id"]: ["no_active_product"],
    }


def _referral_of(application: dict[str, Any], bank: dict[str, Any]) -> str:
    return next(r["id"] for r in application["referrals"] if r["bank"]["id"] == bank["id"])


def test_a_bank_fetches_its_referrals_report_and_the_enterprise_sees_the_fetch(
    client: TestClient, db: Session, firm, bank, other_bank
):
    helpers.product(client, bank)
    helpers.product(client, other_bank)
    application = helpers.apply(client, firm, [bank["id"], other_bank["id"]]).json()
    referral_id = _referral_of(application, bank)

    listed = client.get("/v1/partner/referrals", params={"limit": 1}, headers=bank["headers"]).json()
    assert [r["id"] for r in listed["data"]] == [referral_id] and listed["has_more"] is False
    detail = client.get(f"/v1/partner/referrals/{referral_id}", headers=bank["headers"]).json()
    assert detail["enterprise"]["uscc"] == firm["uscc"]

    report = client.get(f"/v1/partner/referrals/{referral_id}/report", headers=bank["headers"])

    assert report.status_code == 200, report.text
    content = report.json()["content"]
    assert content["score"]["level"] == "B"
    assert {"breakdown", "top_reasons", "blocked"} <= set(content["score"])
    assert content["active_records"]["lists"] == {"red": 0, "black": 0}
    assert content["platform_behaviour"]["loans"] == {"repaid": 0, "overdue": 0}
    view = client.get(
        f"/v1/enterprises/{firm['id']}/loan-applications/{application['id']}", headers=firm["headers"]
    ).json()
    accesses = {r["bank"]["id"]: r["report_accesses"] for r in view["referrals"]}
    assert [a["partner_id"] for a in accesses[bank["id"]]] == [bank["id"]]
    assert accesses[other_bank["id"]] == []
    log = client.get(f"/v1/enterprises/{firm['id']}/access-log", headers=firm["headers"]).json()["data"]
    assert log[0]["action"] == "credit_report.disclosed" and log[0]["partner_id"] == bank["id"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.id == log[0]["id"])).one()
    assert entry.details["consent_id"] == application["consent"]["id"]


def test_another_banks_referral_is_404_and_not_logged(
    client: TestClient, db: Session, firm, bank, other_bank
):
    helpers.product(client, bank)
    application = helpers.apply(client, firm, [bank["id"]]).json()
    referral_id = _referral_of(application, bank)
    pass_helpers.touch(client, other_bank)
    before = table_snapshot(db)

    for path in ("", "/report"):
        response = client.get(f"/v1/partner/referrals/{referral_id}{path}", headers=other_bank["headers"])
        assert (response.status_code, response.json()["code"]) == (404, "referral_not_found")
    decision = client.post(
        f"/v1/partner/referrals/{referral_id}/decision",
        json={"decision": "declined", "reason": "other"},
        headers=other_bank["headers"],
    )
    assert decision.status_code == 404
    assert table_snapshot(db) == before


def test_after_withdrawal_the_next_fetch_is_refused_and_nothing_is_disclosed(
    client: TestClient, db: Session, firm, bank
):
    helpers.product(client, bank)
    application = helpers.apply(client, firm, [bank["id"]]).json()
    referral_id = _referral_of(application, bank)
    assert (
        client.get(f"/v1/partner/referrals/{referral_id}/report", headers=bank["headers"]).status_code == 200
    )

    withdrawn = client.post(
        f"/v1/me/consents/{application['consent']['id']}/withdraw", headers=firm["headers"]
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    pass_helpers.touch(client, bank)
    before = table_snapshot(db)

    response = client.get(f"/v1/partner/referrals/{referral_id}/report", headers=bank["headers"])

    assert (response.status_code, response.json()["code"]) == (403, "consent_withdrawn")
    assert "content" not in response.json()
    assert table_snapshot(db) == before
    consents = client.get("/v1/me/consents", headers=firm["headers"]).json()["data"]
    assert [(c["id"], c["status"], c["reference"]) for c in consents] == [
        (application["consent"]["id"], "withdrawn", application["id"])
    ]
    assert consents[0]["grantee_names"] == [db.get(Partner, g).name for g in consents[0]["grantees"]]


def test_an_expired_consent_refuses_the_fetch_with_its_own_code(
    client: TestClient, db: Session, firm, bank, pinned_clock
):
    helpers.product(client, bank)
    application = helpers.apply(client, firm, [bank["id"]]).json()
    referral_id = _referral_of(application, bank)

    pinned_clock.shift(timedelta(days=31))
    pass_helpers.touch(client, bank)
    before = table_snapshot(db)
    response = client.get(f"/v1/partner/referrals/{referral_id}/report", headers=bank["headers"])
    assert (response.status_code, response.json()["code"]) == (403, "consent_expired")
    assert table_snapshot(db) == before


def test_someone_else_cannot_withdraw_the_enterprises_consent(
    client: TestClient, sms: RecordingSender, db: Session, firm, bank
):
    helpers.product(client, bank)
    application = helpers.apply(client, firm, [bank["id"]]).json()
    stranger = pass_helpers.resident(client, sms)
    response = client.post(
        f"/v1/me/consents/{application['consent']['id']}/withdraw", headers=stranger["headers"]
    )
    assert (response.status_code, response.json()["code"]) == (404, "consent_not_found")
    assert client.get("/v1/me/consents", headers=stranger["headers"]).json()["data"] == []


def test_decisions_outcomes_and_statistics(client: TestClient, db: Session, firm, bank, other_bank, operator):
    helpers.product(client, bank)
    helpers.product(client, other_bank)
    before = client.get("/v1/stats/xinyidai").json()["totals"]
    application = helpers.apply(client, firm, [bank["id"], other_bank["id"]]).json()
    approve_id, decline_id = _referral_of(application, bank), _referral_of(application, other_bank)

    approved = client.post(
        f"/v1/partner/referrals/{approve_id}/decision",
        json={"decision": "approved", "amount_fen": 400_000_00, "annual_rate_bps": 395, "term_months": 12},
        headers={**bank["headers"], **helpers.idem()},
    )
    assert approved.status_code == 200, approved.text
    declined = client.post(
        f"/v1/partner/referrals/{decline_id}/decision",
        json={"decision": "declined", "reason": "insufficient_repayment_capacity"},
        headers=other_bank["headers"],
    )
    assert declined.status_code == 200, declined.text
    # a second, different decision is refused; the same one again is a no-op
    again = client.post(
        f"/v1/partner/referrals/{decline_id}/decision",
        json={"decision": "approved", "amount_fen": 1_00, "annual_rate_bps": 395, "term_months": 12},
        headers=other_bank["headers"],
    )
    assert (again.status_code, again.json()["code"]) == (409, "referral_already_decided")
    same = client.post(
        f"/v1/partner/referrals/{decline_id}/decision",
        json={"decision": "declined", "reason": "insufficient_repayment_capacity"},
        headers=other_bank["headers"],
    )
    assert same.status_code == 200
    too_much = client.post(
        f"/v1/partner/referrals/{approve_id}/decision",
        json={"decision": "approved", "amount_fen": 900_000_00, "annual_rate_bps": 395, "term_months": 12},
        headers=bank["headers"],
    )
    assert too_much.json()["code"] == "invalid_approved_amount"

    # the enterprise sees both decisions
    view = client.get(
        f"/v1/enterprises/{firm['id']}/loan-applications/{application['id']}", headers=firm["headers"]
    ).json()
    by_bank = {r["bank"]["id"]: r for r in view["referrals"]}
    assert by_bank[bank["id"]]["status"] == "approved"
    assert by_bank[bank["id"]]["decision"]["approved_amount_fen"] == 400_000_00
    assert (
        by_bank[other_bank["id"]]["decision"]["decline_reason"]["code"] == "insufficient_repayment_capacity"
    )

    # outcomes move the score in the same transaction
    score_before = client.get(f"/v1/enterprises/{firm['id']}/loan-applications/{application['id']}/report",
                              headers=firm["headers"]).json()["content"]["score"]["score"]  # fmt: skip
    today = business_date().isoformat()
    on_time = client.post(
        f"/v1/partner/referrals/{approve_id}/outcomes",
        json={"kind": "on_time", "occurred_on": today, "reference": "R-1"},
        headers={**bank["headers"], **helpers.idem()},
    )
    assert on_time.status_code == 201, on_time.text
    overdue = client.post(
        f"/v1/partner/referrals/{approve_id}/outcomes",
        json={"kind": "overdue", "occurred_on": today, "days_overdue": 45, "reference": "R-2"},
        headers=bank["headers"],
    )
    assert overdue.status_code == 201, overdue.text
    repeat = client.post(
        f"/v1/partner/referrals/{approve_id}/outcomes",
        json={"kind": "on_time", "occurred_on": today, "reference": "R-1"},
        headers=bank["headers"],
    )
    assert repeat.json()["id"] == on_time.json()["id"]
    not_approved = client.post(
        f"/v1/partner/referrals/{decline_id}/outcomes",
        json={"kind": "on_time", "occurred_on": today, "reference": "X"},
        headers=other_bank["headers"],
    )
    assert (not_approved.status_code, not_approved.json()["code"]) == (409, "referral_not_approved")
    from app.scoring import service as scoring_service

    stored = scoring_service.stored_score(db, firm["subject_id"])
    assert stored is not None
    codes = {r.code: r.points for r in stored.result.reasons}
    assert codes["platform_loan.repaid"] == 10 and codes["platform_loan.overdue.general"] == -80
    assert stored.result.score == score_before + 10 - 80

    # statistics
    after = client.get("/v1/stats/xinyidai").json()
    assert after["totals"]["referrals"] - before["referrals"] == 2
    assert after["totals"]["approvals"] - before["approvals"] == 1
    assert after["totals"]["approved_amount_fen"] - before["approved_amount_fen"] == 400_000_00
    assert after["totals"]["reports_generated"] - before["reports_generated"] == 1
    assert after["totals"]["subjects_rated"] >= 1
    banks = {b["bank_id"]: b for b in after["by_bank"]}
    assert (banks[bank["id"]]["approvals"], banks[bank["id"]]["approved_amount_fen"]) == (1, 400_000_00)
    assert banks[other_bank["id"]]["declines"] == 1
    assert after["by_month"][-1]["approved_amount_fen"] >= 400_000_00
    assert firm["uscc"] not in json.dumps(after) and firm["id"] not in json.dumps(after)
    assert (
        client.get("/v1/admin/stats/xinyidai", headers=operator["headers"]).json()["totals"]
        == after["totals"]
    )
    assert client.get("/v1/admin/stats/xinyidai", headers=firm["headers"]).status_code == 403


def test_the_enterprises_own_report_lists_its_consents_with_the_banks_by_name(
    client: TestClient, firm, bank, other_bank
):
    helpers.product(client, bank)
    application = helpers.apply(client, firm, [bank["id"]]).json()
    consent_id = application["consent"]["id"]

    def consents_in_report() -> list[tuple[Any, ...]]:
        report = client.get(f"/v1/me/report?enterprise_id={firm['id']}", headers=firm["headers"])
        assert report.status_code == 200, report.text
        return [
            (c["id"], c["purpose"], c["grantee"], c["status"], c["reference"], c["withdrawn_at"] is None)
            for c in report.json()["consents"]
        ]

    assert consents_in_report() == [
        (consent_id, "xinyidai_loan_application", "天山示范银行", "active", application["id"], True)
    ]
    assert client.post(f"/v1/me/consents/{consent_id}/withdraw", headers=firm["headers"]).status_code == 200
    assert consents_in_report() == [
        (consent_id, "xinyidai_loan_application", "天山示范银行", "withdrawn", application["id"], False)
    ]
    html = client.get(f"/v1/me/report?enterprise_id={firm['id']}&format=html", headers=firm["headers"]).text
    assert "天山示范银行" in html and "昆仑农商银行" not in html
