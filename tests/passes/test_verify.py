"""Online verification: the decision, what the partner learns, what is recorded and what the resident sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.verifications.models import Verification
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes.helpers import black_list, issue, partner, touch, verify

DEPOSIT_WAIVER = {
    "type": "deposit_waiver",
    "zh": "免押金租用",
    "en": "Deposit waived",
    "waived_deposit_fen": {"power_bank": 9900, "bike": 19900, "equipment": 50000},
    "max_items": 1,
}


def test_an_eligible_scan_tells_the_partner_only_the_decision_and_is_recorded_and_audited(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given a resident at the base score (level B) and a power-bank merchant
    token = issue(client, holder)["token"]

    # when the merchant verifies the pass for a deposit-free rental
    response = verify(client, merchant, token)

    # then it learns the decision, the benefit, a pseudonym and a verification id, nothing about the person
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "id",
        "object",
        "decision",
        "reason",
        "reason_labels",
        "benefit",
        "subject",
        "scenario",
        "created_at",
        "expires_at",
    }
    assert body["id"].startswith("ver_")
    assert (body["decision"], body["reason"], body["scenario"]) == (
        "eligible",
        "level_met",
        "deposit_free_rental",
    )
    assert body["benefit"] == DEPOSIT_WAIVER
    assert body["reason_labels"] == {
        "zh": "信用等级达到场景要求",
        "en": "Credit level meets the scenario's requirement",
    }
    assert body["subject"].startswith("psn_") and len(body["subject"]) == 36
    assert holder["subject_id"] not in response.text and holder["id_number"] not in response.text

    # and the scan is stored and written to the subject's audit chain, naming the partner and the scenario
    stored = db.get(Verification, body["id"])
    assert stored is not None
    assert (stored.partner_id, stored.subject_id, stored.mode, stored.decision) == (
        merchant["id"],
        holder["subject_id"],
        "online",
        "eligible",
    )
    entries = db.exec(select(AuditEntry).where(AuditEntry.subject_id == holder["subject_id"])).all()
    assert [(e.actor_type, e.actor_id, e.action, e.purpose, e.legal_basis) for e in entries] == [
        (
            "partner",
            merchant["id"],
            "pass.verified",
            "deposit_free_rental",
            "the resident presented the pass (主体出示信用码)",
        )
    ]
    assert entries[0].details == {
        "verification_id": body["id"],
        "scenario": "deposit_free_rental",
        "decision": "eligible",
        "reason": "level_met",
    }

    # and the resident sees the scan, with the partner's name, and it is in their access log
    mine = client.get("/v1/me/verifications", headers=holder["headers"]).json()
    assert [(s["id"], s["partner"]["id"], s["scenario"]["name_zh"], s["decision"]) for s in mine["data"]] == [
        (body["id"], merchant["id"], "信易租", "eligible")
    ]
    log = client.get("/v1/me/access-log", headers=holder["headers"]).json()["data"]
    assert [(e["partner_id"], e["action"], e["purpose"]) for e in log] == [
        (merchant["id"], "pass.verified", "deposit_free_rental")
    ]


def test_black_listing_between_issue_and_scan_refuses_the_benefit(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given a pass issued while the resident was in good standing
    token = issue(client, holder)["token"]
    # when a court puts the resident on the black list before the pass is scanned
    black_list(client, db, holder)
    response = verify(client, merchant, token)
    # then the scan is not eligible, recorded as such, and the partner is told no more than "restricted"
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["decision"], body["reason"], body["benefit"]) == ("not_eligible", "restricted", None)
    stored = db.get(Verification, body["id"])
    assert stored is not None and (stored.decision, stored.reason) == ("not_eligible", "restricted")


def test_the_level_rule_refuses_a_scenario_above_the_subjects_level(
    client: TestClient, holder: dict[str, Any], counter: dict[str, Any]
) -> None:
    # priority service needs AA (or the red list); a resident at the base score is B
    response = verify(client, counter, issue(client, holder)["token"], "priority_service")
    assert response.status_code == 201
    assert (response.json()["decision"], response.json()["reason"]) == ("not_eligible", "level_too_low")


def test_pseudonyms_are_stable_per_partner_and_differ_across_partners(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    other = partner(db, "merchant")
    first = verify(client, merchant, issue(client, holder)["token"]).json()["subject"]
    again = verify(client, merchant, issue(client, holder)["token"]).json()["subject"]
    elsewhere = verify(client, other, issue(client, holder)["token"]).json()["subject"]
    assert first == again
    assert elsewhere != first


def test_a_revoked_pass_is_refused_and_the_refusal_is_recorded(
    client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    issued = issue(client, holder)
    assert client.delete(f"/v1/me/passes/{issued['id']}", headers=holder["headers"]).status_code == 204
    response = verify(client, merchant, issued["token"])
    assert response.status_code == 201
    assert (response.json()["decision"], response.json()["reason"]) == ("not_eligible", "pass_revoked")


def test_a_retry_with_the_same_idempotency_key_replays_the_first_decision(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    token = issue(client, holder)["token"]
    first = verify(client, merchant, token, **{"Idempotency-Key": "scan-1"})
    before = table_snapshot(db)
    retry = verify(client, merchant, token, **{"Idempotency-Key": "scan-1"})
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert table_snapshot(db) == before
    # without the key the same scan is a replay
    assert_problem(verify(client, merchant, token), 409, "token_replayed", "token")


def test_a_retry_sent_after_the_pass_expired_still_replays_the_first_decision(
    client: TestClient,
    db: Session,
    holder: dict[str, Any],
    merchant: dict[str, Any],
    pinned_clock: time_machine.TimeMachineFixture,
) -> None:
    # given a verification made with a key
    token = issue(client, holder)["token"]
    first = verify(client, merchant, token, **{"Idempotency-Key": "scan-late"})
    assert first.status_code == 201, first.text

    # when its retry arrives ten minutes later, long after the pass expired
    pinned_clock.shift(timedelta(minutes=10))
    touch(client, merchant)
    before = table_snapshot(db)
    retry = verify(client, merchant, token, **{"Idempotency-Key": "scan-late"})

    # then it gets the first answer, not token_expired, and nothing is written
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert table_snapshot(db) == before
    # without the key the late scan is refused as expired
    assert_problem(verify(client, merchant, token), 422, "token_expired", "token")


def test_a_key_reused_for_another_pass_is_refused_and_leaves_that_pass_unused(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given a verification made with a key
    assert (
        verify(client, merchant, issue(client, holder)["token"], **{"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    second = issue(client, holder)["token"]
    before = table_snapshot(db)

    # when the same key comes with another pass
    reused = verify(client, merchant, second, **{"Idempotency-Key": "k-1"})

    # then it is refused, nothing is written, and the other pass is still unused
    assert_problem(reused, 422, "idempotency_key_reused", "Idempotency-Key")
    assert table_snapshot(db) == before
    scanned = verify(client, merchant, second, **{"Idempotency-Key": "k-2"})
    assert scanned.status_code == 201, scanned.text
    assert scanned.json()["decision"] == "eligible"


def test_a_refused_scan_frees_its_idempotency_key_for_the_corrected_request(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given a scan refused for a wrong scenario, with a key
    token = issue(client, holder)["token"]
    before = table_snapshot(db)
    refused = verify(client, merchant, token, "no_such_scenario", **{"Idempotency-Key": "scan-2"})
    assert_problem(refused, 422, "unknown_scenario", "scenario")
    assert table_snapshot(db) == before

    # when the corrected request is sent with the same key
    fixed = verify(client, merchant, token, **{"Idempotency-Key": "scan-2"})

    # then it runs (a refusal is not stored), and its own retry replays it
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    retry = verify(client, merchant, token, **{"Idempotency-Key": "scan-2"})
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == fixed.json()


def test_a_user_token_cannot_verify_and_changes_nothing(
    client: TestClient, db: Session, holder: dict[str, Any]
) -> None:
    token = issue(client, holder)["token"]
    before = table_snapshot(db)
    response = client.post(
        "/v1/verifications",
        json={"token": token, "scenario": "deposit_free_rental"},
        headers={**holder["headers"], "Idempotency-Key": "k"},
    )
    assert_problem(response, 403, "partner_required")
    assert table_snapshot(db) == before


def test_scans_are_listed_newest_first_with_a_cursor(
    client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    ids = [verify(client, merchant, issue(client, holder)["token"]).json()["id"] for _ in range(3)]
    page = client.get("/v1/me/verifications", params={"limit": 2}, headers=holder["headers"]).json()
    assert [s["id"] for s in page["data"]] == ids[::-1][:2] and page["has_more"] is True
    rest = client.get(
        "/v1/me/verifications",
        params={"limit": 2, "starting_after": page["data"][-1]["id"]},
        headers=holder["headers"],
    ).json()
    assert [s["id"] for s in rest["data"]] == [ids[0]] and rest["has_more"] is False
