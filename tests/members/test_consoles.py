"""Members doing their partner's business with their own sign-in: a bank's officers work its 信易贷
referrals, a merchant's staff read its scans and rentals, a data provider's staff send records and follow
the objections to them. Each answer is the partner key's answer; the audit log names the member."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.clock import business_date
from app.core.config import Settings
from app.core.sms import RecordingSender
from app.records.models import CreditRecord, RecordBatch
from app.rentals import defaults
from tests.clock import days_ago
from tests.helpers import refresh, table_snapshot
from tests.loans import helpers as loans
from tests.members.helpers import idem, member, partner
from tests.passes import helpers as passes
from tests.records.helpers import csv_text, new_id_number, penalty
from tests.rentals import helpers as rentals
from tests.rentals.conftest import bind_after_commit_sessions
from tests.rights.helpers import object_to


def test_a_bank_officer_works_referrals_from_report_to_repayment(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings
) -> None:
    bank = partner(db, "bank")
    officer = member(db, settings, bank, "manager")
    clerk = member(db, settings, bank, "clerk")
    product = client.post(
        f"/v1/partners/{bank}/loan-products", json=loans.PRODUCT, headers={**officer["headers"], **idem()}
    )
    assert product.status_code == 201, product.text
    first_firm, second_firm = loans.enterprise(client, sms), loans.enterprise(client, sms)
    first = loans.apply(client, first_firm, [bank]).json()
    second = loans.apply(client, second_firm, [bank]).json()
    first_id, second_id = first["referrals"][0]["id"], second["referrals"][0]["id"]
    base = f"/v1/partners/{bank}/referrals"

    # The clerk reads the list, page by page and by status.
    page = client.get(base, params={"limit": 1}, headers=clerk["headers"]).json()
    assert ([r["id"] for r in page["data"]], page["has_more"]) == ([second_id], True)
    rest = client.get(base, params={"limit": 1, "starting_after": second_id}, headers=clerk["headers"]).json()
    assert ([r["id"] for r in rest["data"]], rest["has_more"]) == ([first_id], False)
    referred = client.get(base, params={"status": "referred"}, headers=clerk["headers"]).json()["data"]
    assert [(r["id"], r["enterprise"]["uscc"]) for r in referred] == [
        (second_id, second_firm["uscc"]),
        (first_id, first_firm["uscc"]),
    ]

    # The officer fetches the report while the consent is valid; the enterprise's log names the officer.
    report = client.get(f"{base}/{first_id}/report", headers=officer["headers"])
    assert report.status_code == 200, report.text
    assert report.json()["referral_id"] == first_id
    assert report.json()["consent_expires_at"] == first["consent"]["expires_at"]
    assert report.json()["content"]["score"]["level"] == "B"
    disclosed = db.exec(
        select(AuditEntry).where(
            AuditEntry.action == "credit_report.disclosed", AuditEntry.subject_id == first_firm["subject_id"]
        )
    ).one()
    assert (disclosed.actor_type, disclosed.actor_id, disclosed.details["referral_id"]) == (
        "member",
        officer["id"],
        first_id,
    )

    # Decline one with a documented reason, approve the other and report a repayment.
    declined = client.post(
        f"{base}/{first_id}/decision",
        json={"decision": "declined", "reason": "collateral_required"},
        headers={**officer["headers"], **idem()},
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["decision"]["decline_reason"]) == (
        "declined",
        {
            "code": "collateral_required",
            "labels": {"zh": "需提供担保或抵押", "en": "Guarantee or collateral required"},
        },
    )
    unknown = client.post(
        f"{base}/{second_id}/decision",
        json={"decision": "declined", "reason": "bad_mood"},
        headers={**officer["headers"], **idem()},
    )
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["param"]) == (
        422,
        "invalid_decline_reason",
        "reason",
    )
    approved = client.post(
        f"{base}/{second_id}/decision",
        json={"decision": "approved", "amount_fen": 400_000_00, "annual_rate_bps": 395, "term_months": 12},
        headers={**officer["headers"], **idem()},
    )
    assert approved.json()["decision"]["approved_amount_fen"] == 400_000_00
    outcome = client.post(
        f"{base}/{second_id}/outcomes",
        json={"kind": "on_time", "occurred_on": business_date().isoformat(), "reference": "R-0001"},
        headers={**officer["headers"], **idem()},
    )
    assert outcome.status_code == 201, outcome.text
    # the outcome lands as a record the platform writes, audited with the officer as its sender
    recorded = db.exec(select(AuditEntry).where(AuditEntry.action == "records.batch_ingested")).all()
    assert [
        (e.actor_type, e.actor_id, e.details["created"])
        for e in recorded
        if e.details["source"] == f"xinyidai:{bank}"
    ] == [("member", officer["id"], 1)]
    seen = client.get(f"{base}/{second_id}", headers=clerk["headers"]).json()
    assert (seen["status"], [(o["kind"], o["reference"]) for o in seen["outcomes"]]) == (
        "approved",
        [("on_time", "R-0001")],
    )
    decided = client.get(base, params={"status": "declined"}, headers=clerk["headers"]).json()["data"]
    assert [r["id"] for r in decided] == [first_id]
    assert sorted(
        (e.details["referral_id"], e.details["decision"], e.actor_type, e.actor_id)
        for e in db.exec(select(AuditEntry).where(AuditEntry.action == "loan.referral_decided")).all()
        if e.details["referral_id"] in {first_id, second_id}
    ) == sorted(
        [(first_id, "declined", "member", officer["id"]), (second_id, "approved", "member", officer["id"])]
    )

    # After the enterprise withdraws its consent the next fetch is refused, and nothing is written.
    withdrawn = client.post(
        f"/v1/me/consents/{second['consent']['id']}/withdraw", headers=second_firm["headers"]
    )
    assert withdrawn.json()["status"] == "withdrawn"
    before = table_snapshot(db)
    refused = client.get(f"{base}/{second_id}/report", headers=officer["headers"])
    assert (refused.status_code, refused.json()["code"]) == (403, "consent_withdrawn")
    assert "content" not in refused.json()
    assert table_snapshot(db) == before


def test_a_merchants_staff_see_scans_per_day_and_the_eligible_rate_per_scenario(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings, pinned_clock: Any
) -> None:
    merchant = passes.partner(db, "merchant")
    elsewhere = passes.partner(db, "merchant")
    good, listed = passes.resident(client, sms), passes.resident(client, sms)
    passes.black_list(client, db, listed)

    def scan(holder: dict[str, Any], scenario: str, at: dict[str, Any] = merchant) -> str:
        response = passes.verify(client, at, passes.issue(client, holder)["token"], scenario)
        assert response.status_code == 201, response.text
        return str(response.json()["decision"])

    assert scan(good, "deposit_free_rental") == "eligible"
    assert scan(listed, "deposit_free_rental") == "not_eligible"
    assert scan(good, "library") == "eligible"
    assert scan(good, "library", elsewhere) == "eligible"  # another merchant's scan
    pinned_clock.shift(timedelta(days=1))
    refresh(client, good)  # its access token expired in the meantime
    assert scan(good, "deposit_free_rental") == "eligible"
    clerk = member(db, settings, merchant["id"], "clerk")

    response = client.get(
        f"/v1/partners/{merchant['id']}/scan-statistics",
        params={"from": days_ago(1).isoformat(), "to": business_date().isoformat()},
        headers=clerk["headers"],
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["partner_id"], body["from"], body["to"]) == (
        merchant["id"],
        days_ago(1).isoformat(),
        business_date().isoformat(),
    )
    assert body["totals"] == {"scans": 4, "eligible": 3, "eligible_rate": 0.75}
    assert [(s["scenario"], s["scans"], s["eligible"], s["eligible_rate"]) for s in body["by_scenario"]] == [
        ("deposit_free_rental", 3, 2, 0.6667),
        ("library", 1, 1, 1.0),
    ]
    assert [
        (d["day"], d["scans"], d["eligible"], [(s["scenario"], s["scans"]) for s in d["by_scenario"]])
        for d in body["by_day"]
    ] == [
        (days_ago(1).isoformat(), 0, 0, []),
        (days_ago(0).isoformat(), 3, 2, [("deposit_free_rental", 2), ("library", 1)]),
        (business_date().isoformat(), 1, 1, [("deposit_free_rental", 1)]),
    ]
    backwards = client.get(
        f"/v1/partners/{merchant['id']}/scan-statistics",
        params={"from": business_date().isoformat(), "to": days_ago(0).isoformat()},
        headers=clerk["headers"],
    )
    assert (backwards.status_code, backwards.json()["code"], backwards.json()["param"]) == (
        422,
        "invalid_date_range",
        "from",
    )
    too_long = client.get(
        f"/v1/partners/{merchant['id']}/scan-statistics",
        params={"from": days_ago(400).isoformat()},
        headers=clerk["headers"],
    )
    assert (too_long.status_code, too_long.json()["code"]) == (422, "date_range_too_long")


def test_a_merchants_staff_list_open_overdue_and_defaulted_rentals_and_see_the_default_rate(
    app: Any, client: TestClient, sms: RecordingSender, db: Session, settings: Settings, pinned_clock: Any
) -> None:
    bind_after_commit_sessions(app, db)
    clock = rentals.Clock(pinned_clock)
    merchant = passes.partner(db, "merchant")
    alice, bob, carol = (rentals.resident(client, sms) for _ in range(3))
    opened = {}
    for name, holder in (("returned", alice), ("defaulted", bob), ("overdue", carol)):
        response = rentals.open_rental(client, merchant, rentals.verification(client, holder, merchant)["id"])
        assert response.status_code == 201, response.text
        opened[name] = response.json()["id"]
    returned = client.post(f"/v1/rentals/{opened['returned']}/return", headers=merchant["headers"])
    assert returned.json()["status"] == "returned"
    clock.advance(timedelta(hours=5))  # due after 4 hours
    reported = client.post(
        f"/v1/rentals/{opened['defaulted']}/default",
        json={"evidence": {"description": "逾期未归还", "photo_urls": []}},
        headers=merchant["headers"],
    )
    assert reported.json()["status"] == "default_reported", reported.text
    now = clock.advance(timedelta(days=8))  # past the 7-day dispute window
    for rental_id in defaults.due_defaults(db, now):
        defaults.end_dispute_window(db, app.state.crypto, app.state.settings, rental_id, now)
    db.commit()
    manager = member(db, settings, merchant["id"], "manager")
    base = f"/v1/partners/{merchant['id']}"

    overdue = client.get(f"{base}/rentals", params={"overdue": "true"}, headers=manager["headers"]).json()
    defaulted = client.get(
        f"{base}/rentals", params={"status": "defaulted"}, headers=manager["headers"]
    ).json()
    everything = client.get(f"{base}/rentals", headers=manager["headers"]).json()
    stats = client.get(
        f"{base}/rental-statistics", params={"from": days_ago(0).isoformat()}, headers=manager["headers"]
    )

    assert [r["id"] for r in overdue["data"]] == [opened["overdue"]]
    assert [(r["id"], r["status"]) for r in defaulted["data"]] == [(opened["defaulted"], "defaulted")]
    assert [r["id"] for r in everything["data"]] == [
        opened["overdue"],
        opened["defaulted"],
        opened["returned"],
    ]
    assert stats.status_code == 200, stats.text
    assert {k: v for k, v in stats.json().items() if k != "by_status"} == {
        "object": "rental_statistics",
        "partner_id": merchant["id"],
        "from": days_ago(0).isoformat(),
        "to": business_date().isoformat(),
        "opened": 3,
        "overdue": 1,
        "ended": 2,
        "default_rate": 0.5,
    }
    assert stats.json()["by_status"] == {
        "open": 1,
        "returned": 1,
        "default_reported": 0,
        "disputed": 0,
        "defaulted": 1,
        "dispute_upheld": 0,
    }
    # before any of them opened: nothing, and no rate
    earlier = client.get(
        f"{base}/rental-statistics",
        params={"from": days_ago(20).isoformat(), "to": days_ago(10).isoformat()},
        headers=manager["headers"],
    ).json()
    assert (earlier["opened"], earlier["ended"], earlier["default_rate"]) == (0, 0, None)


def test_a_data_providers_staff_send_records_and_follow_objections(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings
) -> None:
    provider = partner(db, "data_provider")
    manager = member(db, settings, provider, "manager")
    clerk = member(db, settings, provider, "clerk")
    resident = passes.resident(client, sms)
    good = penalty(resident["id_number"], decision_date=days_ago(30).isoformat())
    bad = penalty(new_id_number(), severity="huge", decision_date=days_ago(30).isoformat())
    base = f"/v1/partners/{provider}"

    sent = client.post(
        f"{base}/record-batches", json={"records": [good, bad]}, headers={**manager["headers"], **idem()}
    )

    assert sent.status_code == 201, sent.text
    batch = sent.json()
    assert (batch["source"], batch["channel"], batch["received"], batch["created"], batch["rejected"]) == (
        provider,
        "api",
        2,
        1,
        1,
    )
    assert [(e["row"], e["field"], e["source_record_id"]) for e in batch["errors"]] == [
        (2, "severity", bad["source_record_id"])
    ]
    listed = client.get(f"{base}/record-batches", headers=clerk["headers"]).json()
    assert [(b["id"], b["channel"], b["created"], "errors" in b) for b in listed["data"]] == [
        (batch["id"], "api", 1, False)
    ]
    assert db.get(RecordBatch, batch["id"]).submitted_by == f"member:{manager['id']}"  # type: ignore[union-attr]
    ingested = db.exec(select(AuditEntry).where(AuditEntry.action == "records.batch_ingested")).all()
    assert [(e.actor_type, e.actor_id) for e in ingested if e.details["batch_id"] == batch["id"]] == [
        ("member", manager["id"])
    ]

    record = db.exec(
        select(CreditRecord).where(CreditRecord.source_record_id == good["source_record_id"])
    ).one()
    objection = object_to(client, resident, record.id)
    assert objection.status_code == 201, objection.text
    seen = client.get(f"{base}/objections", headers=clerk["headers"]).json()["data"]
    assert [(o["id"], o["status"], o["source_record_id"]) for o in seen] == [
        (objection.json()["id"], "open", good["source_record_id"])
    ]
    disclosed = db.exec(
        select(AuditEntry).where(
            AuditEntry.action == "objection.disclosed_to_source",
            AuditEntry.subject_id == resident["subject_id"],
        )
    ).all()
    assert [(e.actor_type, e.actor_id) for e in disclosed] == [("member", clerk["id"])]
    assert (
        client.get(f"{base}/objections", params={"status": "upheld"}, headers=clerk["headers"]).json()["data"]
        == []
    )


def test_a_partner_without_the_thing_is_told_so_and_nothing_changes(
    client: TestClient, db: Session, settings: Settings
) -> None:
    checks = [
        ("bank", "GET", "/scan-statistics"),
        ("bank", "GET", "/rentals"),
        ("government_counter", "GET", "/rentals"),
        ("government_counter", "GET", "/rental-statistics"),
        ("merchant", "GET", "/referrals"),
        ("merchant", "POST", "/referrals/lrf_X/decision"),
        ("data_provider", "GET", "/referrals/lrf_X/report"),
        ("merchant", "POST", "/record-batches"),
        ("bank", "GET", "/record-batches"),
        ("merchant", "GET", "/objections"),
    ]
    for kind, method, path in checks:
        organisation = partner(db, kind)
        owner = member(db, settings, organisation, "owner")
        before = table_snapshot(db)
        body = {"records": [penalty(new_id_number())]} if path == "/record-batches" else {"decision": "x"}
        response = client.request(
            method,
            f"/v1/partners/{organisation}{path}",
            json=body if method == "POST" else None,
            headers={**owner["headers"], **idem()},
        )
        assert (response.status_code, response.json()["code"]) == (403, "not_for_partner_kind"), (kind, path)
        assert table_snapshot(db) == before


def test_a_record_file_is_uploaded_by_a_member_as_by_the_key_with_its_refused_rows(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings
) -> None:
    provider = passes.partner(db, "data_provider")  # with its key
    manager = member(db, settings, provider["id"], "manager")
    good = penalty(new_id_number(), decision_date=days_ago(30).isoformat())
    bad = penalty(new_id_number(), decision_date=days_ago(30).isoformat(), severity="huge")
    base = f"/v1/partners/{provider['id']}"

    by_member = client.post(
        f"{base}/record-files",
        files={"file": ("amr-2026-11.csv", csv_text(good, bad).encode(), "text/csv")},
        headers={**manager["headers"], **idem()},
    )
    again = penalty(new_id_number(), decision_date=days_ago(30).isoformat())
    by_key = client.post(
        "/v1/records/files",
        files={"file": ("amr.jsonl", (json.dumps(again) + "\n").encode(), "application/x-ndjson")},
        headers={**provider["headers"], **idem()},
    )

    assert by_member.status_code == 201, by_member.text
    sent = by_member.json()
    assert (sent["channel"], sent["file_name"], sent["received"], sent["created"], sent["rejected"]) == (
        "file",
        "amr-2026-11.csv",
        2,
        1,
        1,
    )
    assert [(e["row"], e["field"], e["source_record_id"]) for e in sent["errors"]] == [
        (2, "severity", bad["source_record_id"])
    ]
    assert by_key.status_code == 201, by_key.text
    assert (by_key.json()["channel"], by_key.json()["created"], by_key.json()["errors"]) == ("file", 1, [])
    listed = client.get(f"{base}/record-batches", headers=manager["headers"]).json()["data"]
    assert [(b["id"], b["file_name"]) for b in listed] == [
        (by_key.json()["id"], "amr.jsonl"),
        (sent["id"], "amr-2026-11.csv"),
    ]
    stored = db.exec(
        select(CreditRecord).where(CreditRecord.source_record_id == good["source_record_id"])
    ).one()
    assert stored.batch_id == sent["id"]

    # A file that cannot be read as a whole is refused, naming the file; nothing is written.
    before = table_snapshot(db)
    for name, content, code in (
        ("records.txt", csv_text(good).encode(), "file_refused"),
        ("records.csv", b"title\n" + b"x\n", "file_refused"),
        (
            "records.csv",
            "source_record_id,category,id_number\n".encode("gbk") + "甲,乙,丙\n".encode("gbk"),
            "file_refused",
        ),
    ):
        refused = client.post(
            f"{base}/record-files",
            files={"file": (name, content, "text/csv")},
            headers={**manager["headers"], **idem()},
        )
        assert (refused.status_code, refused.json()["code"], refused.json()["param"]) == (
            422,
            code,
            "file",
        ), name
        assert name in refused.json()["detail"]
    missing = client.post(
        f"{base}/record-files", data={"encoding": "utf-8"}, headers={**manager["headers"], **idem()}
    )
    assert (missing.status_code, missing.json()["code"], missing.json()["param"]) == (
        422,
        "file_required",
        "file",
    )
    assert table_snapshot(db) == before
