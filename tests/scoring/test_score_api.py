"""GET /v1/me/score (both languages), its history, and operators' audited reads."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.clock import add_months, business_date
from tests.clock import days_ago
from tests.helpers import make_phone, sign_in, table_snapshot
from tests.records.helpers import penalty, post_batch


def test_your_score_needs_a_bound_identity(client, sms):
    pair = sign_in(client, sms, make_phone())
    response = client.get("/v1/me/score", headers=pair["headers"])
    assert response.status_code == 404
    assert response.json()["code"] == "identity_not_bound"
    assert client.get("/v1/me/score").status_code == 401


def test_a_resident_with_nothing_on_file_has_the_base_score(client, resident):
    body = client.get("/v1/me/score", headers=resident["headers"]).json()
    assert (body["score"], body["level"], body["blocked"], body["model_version"]) == (600, "B", False, "v1")
    assert body["top_reasons"] == []
    assert body["subject_id"] == resident["subject_id"]


def test_the_score_explains_itself_in_chinese_and_in_english(client, resident, provider):
    today = business_date()
    decided = add_months(today, -1)
    repair_from = add_months(decided, 3)
    stops = add_months(decided, 12)
    landed = post_batch(client, provider, [penalty(resident["id_number"], "general", decided.isoformat())])
    assert landed.status_code == 201, landed.text

    zh = client.get("/v1/me/score", headers=resident["headers"])
    en = client.get("/v1/me/score", headers={**resident["headers"], "Accept-Language": "en-GB,en;q=0.9"})

    assert zh.status_code == en.status_code == 200
    assert zh.headers["Content-Language"] == "zh-CN"
    assert en.headers["Content-Language"] == "en"
    zh_body, en_body = zh.json(), en.json()
    assert (zh_body["score"], zh_body["level"]) == (en_body["score"], en_body["level"]) == (550, "B")
    assert (zh_body["level_label"], en_body["level_label"]) == ("信用一般", "Fair")
    reason = {
        "code": "administrative_penalty.general",
        "dimension": "administrative",
        "points": -50,
        "count": 1,
    }
    assert zh_body["top_reasons"] == [
        {
            **reason,
            "label": "一般失信行政处罚",
            "labels": {"zh": "一般失信行政处罚", "en": "Administrative penalty (general)"},
        }
    ]
    assert en_body["top_reasons"][0]["label"] == "Administrative penalty (general)"
    administrative = next(d for d in en_body["breakdown"] if d["dimension"] == "administrative")
    assert (administrative["label"], administrative["points"], administrative["max_negative"]) == (
        "Administrative compliance",
        -50,
        300,
    )
    repair = zh_body["improvements"][0]
    assert repair["kind"] == "repair"
    assert repair["available_from"] == repair_from.isoformat()
    assert repair["available_now"] is False
    assert repair["until"] == stops.isoformat()
    assert repair["points"] == 50
    assert repair["message"] == (
        f"「一般失信行政处罚」可于{repair_from.isoformat()}起申请信用修复（免费），修复后最多可提高50分，"
        f"最迟于{stops.isoformat()}停止计分。"
    )
    assert en_body["improvements"][0]["message"] == (
        f"“Administrative penalty (general)” can be repaired from {repair_from.isoformat()} (free of charge), "
        f"adding back up to 50 points; it stops counting on {stops.isoformat()} at the latest."
    )
    assert repair["messages"] == en_body["improvements"][0]["messages"]


def test_a_penalty_past_its_minimum_publicity_can_be_repaired_now(client, resident, provider):
    decided = business_date() - timedelta(days=10)  # minor: no minimum publicity
    post_batch(client, provider, [penalty(resident["id_number"], "minor", decided.isoformat())])
    body = client.get("/v1/me/score", headers={**resident["headers"], "Accept-Language": "en"}).json()
    repair = body["improvements"][0]
    assert (repair["available_now"], repair["available_from"]) == (True, decided.isoformat())
    assert repair["message"].startswith(
        "“Administrative penalty (minor)” can be repaired now (free of charge)"
    )


def test_the_history_lists_each_change_newest_first(client, resident, provider):
    decided = (business_date() - timedelta(days=30)).isoformat()
    post_batch(client, provider, [penalty(resident["id_number"], "general", decided)])
    post_batch(client, provider, [penalty(resident["id_number"], "serious", decided)])

    page = client.get("/v1/me/score/history", headers=resident["headers"]).json()
    assert [(h["score"], h["level"], h["trigger"]) for h in page["data"]] == [
        (430, "C", "ingestion"),
        (550, "B", "ingestion"),
    ]
    assert page["data"][0]["top_reasons"] == [
        "administrative_penalty.serious",
        "administrative_penalty.general",
    ]
    first = client.get("/v1/me/score/history?limit=1", headers=resident["headers"]).json()
    assert (len(first["data"]), first["has_more"]) == (1, True)
    rest = client.get(
        f"/v1/me/score/history?limit=1&starting_after={first['data'][0]['id']}", headers=resident["headers"]
    ).json()
    assert [h["score"] for h in rest["data"]] == [550]


def test_an_operator_reads_any_score_and_the_read_is_audited(
    client, db: Session, operator, resident, provider
):
    post_batch(client, provider, [penalty(resident["id_number"], "general", days_ago(325).isoformat())])
    response = client.get(
        f"/v1/admin/subjects/{resident['subject_id']}/score",
        params={"purpose": "信易贷 referral review", "legal_basis": "subject consent"},
        headers=operator["headers"],
    )
    assert response.status_code == 200
    assert response.json()["score"] == client.get("/v1/me/score", headers=resident["headers"]).json()["score"]
    reads = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "score.read"
        )
    ).all()
    assert [(e.actor_type, e.actor_id, e.purpose, e.legal_basis, e.details) for e in reads] == [
        (
            "operator",
            operator["id"],
            "信易贷 referral review",
            "subject consent",
            {"model_version": "v1", "stored": True},
        )
    ]


def test_an_operator_read_without_a_purpose_is_refused_and_leaves_no_trace(client, db, operator, resident):
    before = table_snapshot(db)
    response = client.get(f"/v1/admin/subjects/{resident['subject_id']}/score", headers=operator["headers"])
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["param"]) == ("invalid_request", "purpose")
    assert table_snapshot(db) == before


def test_only_operators_read_other_subjects_scores(client, db, resident):
    before = table_snapshot(db)
    response = client.get(
        f"/v1/admin/subjects/{resident['subject_id']}/score",
        params={"purpose": "curiosity"},
        headers=resident["headers"],
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role_required"
    assert table_snapshot(db) == before


def test_an_unknown_subject_is_not_found_and_nothing_is_audited(client, db, operator):
    before = table_snapshot(db)
    response = client.get(
        "/v1/admin/subjects/sub_NOSUCHSUBJECT/score",
        params={"purpose": "supervision"},
        headers=operator["headers"],
    )
    assert response.status_code == 404
    assert response.json()["code"] == "subject_not_found"
    assert table_snapshot(db) == before
