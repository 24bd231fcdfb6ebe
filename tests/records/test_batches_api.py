"""POST /v1/records/batches: data providers push records and list entries."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.audit.models import AuditEntry
from app.audit.service import Grounds
from app.core.principal import Principal
from app.records import service
from app.records.models import CreditRecord, ListEntry, RecordBatch
from app.scoring.models import CreditScore, ScoreHistory
from app.subjects.models import Subject
from tests.clock import days_ago, days_ahead
from tests.helpers import make_phone, make_uscc, sign_in, table_snapshot
from tests.records.helpers import black_list, make_partner_key, new_id_number, penalty, post_batch, uid

SCORED_TABLES = ("credit_records", "credit_list_entries", "credit_scores", "credit_score_history", "subjects")


def records_by_source_id(db: Session, *source_record_ids: str) -> dict[str, CreditRecord]:
    rows = db.exec(
        select(CreditRecord)
        .where(CreditRecord.source_record_id.in_(source_record_ids))  # type: ignore[attr-defined]
        .execution_options(populate_existing=True)
    ).all()
    return {row.source_record_id: row for row in rows}


def scored(snapshot: dict) -> dict:
    return {name: snapshot[name] for name in SCORED_TABLES}


def test_a_batch_lands_records_creates_subjects_and_scores_them(client, db, provider):
    person, firm = new_id_number(), make_uscc()
    rows = [
        penalty(person, "serious", days_ago(270).isoformat(), source_record_id="P-1"),
        {
            "source_record_id": "P-2",
            "category": "honour",
            "id_number": person,
            "decision_date": days_ago(190).isoformat(),
        },
        {
            "source_record_id": "F-1",
            "category": "tax_credit_rating",
            "uscc": firm,
            "grade": "A",
            "decision_date": days_ago(210).isoformat(),
        },
    ]
    response = post_batch(client, provider, rows)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["object"] == "record_batch" and body["id"].startswith("rba_")
    assert (body["source"], body["channel"], body["status"]) == (provider["id"], "api", "completed")
    assert (body["received"], body["created"], body["updated"], body["unchanged"], body["rejected"]) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert body["errors"] == []
    landed = records_by_source_id(db, "P-1", "P-2", "F-1")
    serious = landed["P-1"]
    assert (serious.category, serious.severity, serious.status, serious.source) == (
        "administrative_penalty",
        "serious",
        "active",
        provider["id"],
    )
    assert (
        serious.publicity_starts_on,
        serious.publicity_min_ends_on,
        serious.publicity_ends_on,
        serious.counts_until,
    ) == (days_ago(270), days_ahead(95), days_ahead(826), days_ahead(826))
    assert landed["P-2"].publicity_min_ends_on is None and landed["P-2"].counts_until == days_ahead(906)
    assert landed["P-1"].subject_id == landed["P-2"].subject_id != landed["F-1"].subject_id
    person_subject = db.get(Subject, serious.subject_id)
    assert person_subject is not None and person_subject.kind == "person"
    assert person_subject.id_number_masked == person[:6] + "********" + person[-4:]
    assert person_subject.id_number_ciphertext and person not in person_subject.id_number_ciphertext
    scores = {
        s.subject_id: (s.score, s.level, s.trigger)
        for s in db.exec(select(CreditScore).execution_options(populate_existing=True)).all()
    }
    assert scores[serious.subject_id] == (600 - 120 + 30, "C", "ingestion")
    assert scores[landed["F-1"].subject_id] == (660, "A", "ingestion")
    batch = db.get(RecordBatch, body["id"])
    assert batch is not None and (batch.received, batch.created, batch.rejected) == (3, 3, 0)
    ingested = db.exec(select(AuditEntry).where(AuditEntry.action == "records.batch_ingested")).all()
    assert [e.details for e in ingested if e.details["batch_id"] == body["id"]] == [
        {"batch_id": body["id"], "source": provider["id"], "channel": "api", "received": 3, "created": 3,
         "updated": 0, "unchanged": 0, "rejected": 0}
    ]  # fmt: skip


def test_bad_rows_are_reported_with_row_field_and_code_and_the_rest_land(client, db, provider, resident):
    person = new_id_number()
    bad_check_digit = person[:-1] + ("0" if person[-1] != "0" else "1")
    firm = make_uscc()
    bad_uscc = firm[:-1] + ("0" if firm[-1] != "0" else "1")
    rows = [
        penalty(person, source_record_id="OK-1"),
        {**penalty(person, source_record_id="BAD-1"), "category": "administrative_fine"},
        penalty(bad_check_digit, source_record_id="BAD-2"),
        {**penalty(person, source_record_id="BAD-3"), "id_number": None, "uscc": bad_uscc},
        black_list({"id_number": person}, source_record_id="BAD-4", end_date=days_ago(329).isoformat()),
        penalty(person, source_record_id="BAD-5", severity=None),
        penalty(person, source_record_id="OK-1", severity="minor"),
        {
            "source_record_id": "BAD-7",
            "category": "platform_rental",
            "id_number": new_id_number(),
            "outcome": "returned_on_time",
            "decision_date": days_ago(56).isoformat(),
        },
        {
            "source_record_id": "BAD-8",
            "category": "platform_rental",
            "subject_id": "sub_01NOSUCHSUBJECT00000000000",
            "outcome": "returned_on_time",
            "decision_date": days_ago(56).isoformat(),
        },
        {
            "source_record_id": "OK-2",
            "category": "platform_rental",
            "subject_id": resident["subject_id"],
            "outcome": "returned_on_time",
            "decision_date": days_ago(56).isoformat(),
        },
    ]
    response = post_batch(client, provider, rows)

    assert response.status_code == 201, response.text
    body = response.json()
    assert [(e["row"], e["field"], e["code"], e["source_record_id"]) for e in body["errors"]] == [
        (2, "category", "unknown_category", "BAD-1"),
        (3, "id_number", "invalid_id_number_check_digit", "BAD-2"),
        (4, "uscc", "invalid_uscc_check_digit", "BAD-3"),
        (5, "end_date", "end_before_start", "BAD-4"),
        (6, "severity", "severity_required", "BAD-5"),
        (7, "source_record_id", "duplicate_in_batch", "OK-1"),
        (8, "id_number", "unknown_subject", "BAD-7"),
        (9, "subject_id", "unknown_subject", "BAD-8"),
    ]
    assert all(e["message"] for e in body["errors"])
    assert (body["received"], body["created"], body["rejected"]) == (10, 2, 8)
    landed = records_by_source_id(db, "OK-1", "OK-2", *(f"BAD-{n}" for n in range(1, 9)))
    assert sorted(landed) == ["OK-1", "OK-2"]
    assert landed["OK-1"].severity == "general"  # the first of the two, not the duplicate
    assert db.exec(select(ListEntry).where(ListEntry.source_record_id == "BAD-4")).first() is None
    # The unknown person of BAD-7 was not created: platform records need a subject the platform knows.
    assert bad_check_digit not in response.text and person not in response.text


def test_resending_a_batch_changes_nothing(client, db, provider):
    person = new_id_number()
    rows = [penalty(person, source_record_id=uid()), black_list({"id_number": person})]
    first = post_batch(client, provider, rows)
    assert first.json()["created"] == 2
    before = table_snapshot(db)

    again = post_batch(client, provider, rows)  # a new Idempotency-Key: processed again

    assert again.status_code == 201
    body = again.json()
    assert (body["received"], body["created"], body["updated"], body["unchanged"], body["rejected"]) == (
        2,
        0,
        0,
        2,
        0,
    )
    assert scored(table_snapshot(db)) == scored(before)


def test_the_same_idempotency_key_replays_the_first_answer(client, db, provider):
    rows = [penalty(new_id_number())]
    first = post_batch(client, provider, rows, key="batch-2026-11-26-001")
    before = table_snapshot(db)
    replay = post_batch(client, provider, rows, key="batch-2026-11-26-001")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert table_snapshot(db) == before
    reused = post_batch(client, provider, [*rows, penalty(new_id_number())], key="batch-2026-11-26-001")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


def test_a_corrected_row_updates_the_record_rescores_and_is_audited(client, db, provider, resident):
    row = penalty(resident["id_number"], "general", days_ago(178).isoformat(), source_record_id="AMR-77")
    post_batch(client, provider, [row])
    record = records_by_source_id(db, "AMR-77")["AMR-77"]
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 550

    corrected = post_batch(client, provider, [{**row, "severity": "minor", "title": "已更正"}])

    body = corrected.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    after = records_by_source_id(db, "AMR-77")["AMR-77"]
    assert after.id == record.id
    assert (after.severity, after.title, after.publicity_ends_on) == ("minor", "已更正", days_ago(86))
    assert after.status == "expired"  # a minor penalty of June is past its 3 months
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 600
    audits = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "record.corrected"
        )
    ).all()
    assert [(a.actor_type, a.actor_id, a.details) for a in audits] == [
        (
            "partner",
            provider["id"],
            {
                "id": record.id,
                "source": provider["id"],
                "batch_id": body["id"],
                "fields": ["severity", "title"],
            },
        )
    ]


def test_two_providers_may_use_the_same_record_ids(client, db, provider):
    other = make_partner_key(db, name="乌鲁木齐市税务局")
    person = new_id_number()
    assert post_batch(client, provider, [penalty(person, source_record_id="2026-001")]).json()["created"] == 1
    assert post_batch(client, other, [penalty(person, source_record_id="2026-001")]).json()["created"] == 1


def test_a_black_list_entry_makes_the_resident_level_d_in_the_same_request(client, db, provider, resident):
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["level"] == "B"
    response = post_batch(
        client, provider, [black_list({"id_number": resident["id_number"]}, source_record_id="FY-1")]
    )
    assert response.status_code == 201 and response.json()["created"] == 1

    # Committed with the batch: the very next read, by anyone, sees it.
    assert service.is_blocked(db, resident["subject_id"]) is True
    stored = db.exec(
        select(CreditScore)
        .where(CreditScore.subject_id == resident["subject_id"])
        .execution_options(populate_existing=True)
    ).one()
    assert (stored.level, stored.blocked, stored.score) == ("D", True, 399)
    body = client.get("/v1/me/score", headers=resident["headers"]).json()
    assert (body["level"], body["blocked"]) == ("D", True)
    assert body["top_reasons"][0]["code"] == "black_list"
    entry = db.exec(select(ListEntry).where(ListEntry.source_record_id == "FY-1")).one()
    assert (entry.list_type, entry.status, entry.subject_id) == ("black", "active", resident["subject_id"])
    added = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "list_entry.added"
        )
    ).all()
    assert [a.details["id"] for a in added] == [entry.id]
    history = db.exec(select(ScoreHistory).where(ScoreHistory.subject_id == resident["subject_id"])).all()
    assert [(h.level, h.blocked) for h in history] == [("D", True)]


def test_a_black_list_entry_that_ended_does_not_block(client, db, provider, resident):
    rows = [
        black_list(
            {"id_number": resident["id_number"]},
            start_date=days_ago(2521).isoformat(),
            end_date=days_ago(1425).isoformat(),
        )
    ]
    assert post_batch(client, provider, rows).json()["created"] == 1
    assert service.is_blocked(db, resident["subject_id"]) is False
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["level"] == "B"
    entry = db.exec(select(ListEntry).where(ListEntry.subject_id == resident["subject_id"])).one()
    assert entry.status == "expired"


# --- refused calls change nothing -----------------------------------------------------------------


def test_refused_batches_change_nothing(client, db, provider, resident):
    merchant = make_partner_key(db, kind="merchant", scopes=("verifications:write",), name="充电宝")
    rows = [penalty(new_id_number())]
    cases = [
        ({}, rows, 401, "missing_credentials"),
        (resident["headers"], rows, 403, "partner_required"),
        (merchant["headers"], rows, 403, "scope_required"),
    ]
    before = table_snapshot(db)
    for headers, body_rows, status, code in cases:
        response = client.post(
            "/v1/records/batches", json={"records": body_rows}, headers={**headers, "Idempotency-Key": uid()}
        )
        assert (response.status_code, response.json()["code"]) == (status, code)
    no_key = client.post("/v1/records/batches", json={"records": rows}, headers=provider["headers"])
    assert (no_key.status_code, no_key.json()["code"], no_key.json()["param"]) == (
        422,
        "idempotency_key_required",
        "Idempotency-Key",
    )
    empty = post_batch(client, provider, [])
    assert (empty.status_code, empty.json()["code"], empty.json()["param"]) == (422, "empty_batch", "records")
    too_many = post_batch(client, provider, [{"source_record_id": str(n)} for n in range(10_001)])
    assert (too_many.status_code, too_many.json()["code"]) == (422, "batch_too_large")
    not_a_list = client.post(
        "/v1/records/batches",
        json={"records": "all of them"},
        headers={**provider["headers"], "Idempotency-Key": uid()},
    )
    assert (not_a_list.status_code, not_a_list.json()["code"], not_a_list.json()["param"]) == (
        422,
        "invalid_request",
        "records",
    )
    assert table_snapshot(db) == before


def test_status_changes_rescore_and_are_audited(client, db, provider, resident):
    post_batch(
        client,
        provider,
        [penalty(resident["id_number"], "general", days_ago(178).isoformat(), source_record_id="S-1")],
    )
    record = records_by_source_id(db, "S-1")["S-1"]
    staff = Principal(type="user", id="usr_STAFF", roles=frozenset({"operator"}))

    service.set_record_status(
        db, staff, record.id, service.RecordStatus.disputed, grounds=Grounds("objection", "异议")
    )
    assert (
        client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 550
    )  # counts in full (v1)
    service.set_record_status(
        db, staff, record.id, service.RecordStatus.repaired, grounds=Grounds("repair", "修复")
    )
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 600

    changes = db.exec(
        select(AuditEntry)
        .where(AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "record.status_changed")
        .order_by(col(AuditEntry.seq))  # the chain's order (PostgreSQL returns rows in any order without it)
    ).all()
    assert [(c.details["from"], c.details["to"]) for c in changes] == [
        ("active", "disputed"),
        ("disputed", "repaired"),
    ]
    try:
        service.set_record_status(
            db, staff, record.id, service.RecordStatus.active, grounds=Grounds("x", "y")
        )
    except service.Conflict as exc:
        assert exc.code == "invalid_status_change"
    else:
        raise AssertionError("a repaired record cannot come back")


def test_residents_read_their_own_records(client, provider, resident):
    post_batch(
        client,
        provider,
        [penalty(resident["id_number"], "serious", days_ago(270).isoformat(), source_record_id="R-1")],
    )
    page = client.get("/v1/me/records", headers=resident["headers"]).json()
    assert [(r["source_record_id"], r["category"], r["status"]) for r in page["data"]] == [
        ("R-1", "administrative_penalty", "active")
    ]
    record = page["data"][0]
    assert record["category_labels"] == {"zh": "行政处罚", "en": "Administrative penalty"}
    assert (record["publicity_min_ends_on"], record["counts_until"]) == (
        days_ahead(95).isoformat(),
        days_ahead(826).isoformat(),
    )
    assert record["department"] == "乌鲁木齐市市场监督管理局"
    assert record["reason_code"] == "administrative_penalty.serious"  # a reason code of GET /v1/me/score


def test_residents_read_why_they_are_listed(client, provider, resident):
    assert client.get("/v1/me/list-entries", headers=resident["headers"]).json()["data"] == []
    post_batch(client, provider, [black_list({"id_number": resident["id_number"]}, title="失信被执行人")])
    entries = client.get("/v1/me/list-entries", headers=resident["headers"]).json()["data"]
    assert [(e["list_type"], e["title"], e["status"], e["department"], e["ends_on"]) for e in entries] == [
        ("black", "失信被执行人", "active", "乌鲁木齐市市场监督管理局", None)
    ]
    assert entries[0]["legal_basis"] == "《最高人民法院关于公布失信被执行人名单信息的若干规定》"


def test_list_entries_need_a_bound_identity(client, sms):
    pair = sign_in(client, sms, make_phone())
    response = client.get("/v1/me/list-entries", headers=pair["headers"])
    assert (response.status_code, response.json()["code"]) == (404, "identity_not_bound")
