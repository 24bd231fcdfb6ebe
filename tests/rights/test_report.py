"""GET /v1/me/report: the subject's whole file, as JSON and as a printable page, counted per year."""

from __future__ import annotations

from app.core.clock import business_date
from tests.rights.helpers import a_penalty, object_to


def test_the_json_report_has_every_section_masked_and_counted(client, db, provider, resident):
    record = a_penalty(client, db, provider, resident, title="未按规定明码标价")
    object_to(client, resident, record.id)

    first = client.get("/v1/me/report", headers=resident["headers"])
    second = client.get("/v1/me/report", headers=resident["headers"])

    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, no-store"
    body = second.json()
    assert (first.json()["reports_this_year"], body["reports_this_year"]) == (1, 2)
    assert body["year"] == business_date().year
    subject = body["subject"]
    assert (subject["id"], subject["kind"], subject["name_masked"]) == (
        resident["subject_id"],
        "person",
        "张*",
    )
    assert subject["id_number_masked"] == resident["id_number"][:6] + "********" + resident["id_number"][-4:]
    assert resident["id_number"] not in second.text
    assert (body["score"]["score"], body["score"]["level"]) == (550, "B")
    assert [(r["id"], r["status"]) for r in body["records"]] == [(record.id, "disputed")]
    assert [o["status"] for o in body["objections"]] == ["open"]
    assert body["lists"] == [] and body["repairs"] == [] and body["verifications"] == []
    assert (
        body["consents"] == []
    )  # the consent register is wired in at merge (reports.service.consents_section)
    assert "objection.filed" in [e["action"] for e in body["access_log"]]


def test_the_printable_page_escapes_what_it_shows(client, db, provider, resident):
    a_penalty(client, db, provider, resident, title="<script>alert('x')</script>")
    response = client.get("/v1/me/report?format=html", headers=resident["headers"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text
    assert "信用报告" in response.text and "第 1 份" in response.text
    accepted = client.get("/v1/me/report", headers={**resident["headers"], "Accept": "text/html"})
    assert accepted.headers["content-type"].startswith("text/html") and "第 2 份" in accepted.text


def test_an_enterprise_report_for_its_admins_only(client, resident, other_resident):
    from tests.helpers import make_uscc

    created = client.post(
        "/v1/enterprises", json={"name": "测试小微企业", "uscc": make_uscc()}, headers=resident["headers"]
    )
    assert created.status_code == 201, created.text
    enterprise = created.json()
    mine = client.get(f"/v1/me/report?enterprise_id={enterprise['id']}", headers=resident["headers"])
    assert mine.status_code == 200
    assert (mine.json()["subject"]["kind"], mine.json()["subject"]["uscc"]) == (
        "enterprise",
        enterprise["uscc"],
    )
    theirs = client.get(f"/v1/me/report?enterprise_id={enterprise['id']}", headers=other_resident["headers"])
    assert (theirs.status_code, theirs.json()["code"]) == (404, "enterprise_not_found")


def test_without_a_bound_identity_there_is_no_report(client, sms):
    from tests.helpers import make_phone, sign_in

    pair = sign_in(client, sms, make_phone())
    response = client.get("/v1/me/report", headers=pair["headers"])
    assert (response.status_code, response.json()["code"]) == (404, "identity_not_bound")
