"""Evidence uploads: type from the content, size limits, private storage, served to the right people."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from app.audit.models import AuditEntry
from app.evidence.models import EvidenceFile
from tests.helpers import table_snapshot
from tests.rights.helpers import PDF_BYTES, a_penalty, object_to, png_bytes, upload


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_pdf_is_stored_privately_under_a_random_name(client, db, resident, evidence_dir):
    response = upload(client, resident, name="../../etc/passwd.pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["size_bytes"], body["attached_to"]) == (
        "application/pdf",
        len(PDF_BYTES),
        None,
    )
    row = db.get(EvidenceFile, body["id"])
    assert row is not None and row.file_name == "passwd.pdf"  # the name as given, without its path
    path = evidence_dir / row.storage_name[:2] / row.storage_name
    assert path.read_bytes() == PDF_BYTES
    assert path.stat().st_mode & 0o077 == 0
    assert "passwd" not in row.storage_name and len(row.storage_name) == 32
    content = client.get(f"/v1/evidence/{body['id']}/content", headers=resident["headers"])
    assert content.status_code == 200 and content.content == PDF_BYTES
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"] == f'attachment; filename="{body["id"]}.pdf"'


def test_a_real_png_is_accepted_whatever_its_name(client, resident):
    response = upload(client, resident, png_bytes(), name="scan.pdf", content_type="application/pdf")
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"


def test_wrong_type_by_content_is_refused_and_nothing_is_stored(client, db, resident, evidence_dir):
    before_files = _files(evidence_dir)
    before = table_snapshot(db)
    for content in (
        b"MZ\x90\x00 an executable named like a pdf",
        b"\x89PNG\r\n\x1a\n but not really a png at all" * 10,
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.4 truncated without its end",
        b"",
    ):
        response = upload(client, resident, content, name="evidence.pdf", content_type="application/pdf")
        assert response.status_code == 415, content
        assert (response.json()["code"], response.json()["param"]) == ("evidence_type_not_allowed", "file")
    assert table_snapshot(db) == before
    assert _files(evidence_dir) == before_files


def test_oversize_is_refused_and_nothing_is_stored(client, db, resident, settings, evidence_dir):
    before_files = _files(evidence_dir)
    before = table_snapshot(db)
    too_big = PDF_BYTES[:-7] + b"\0" * settings.evidence_max_bytes + b"%%EOF\n"
    response = upload(client, resident, too_big)
    assert (response.status_code, response.json()["code"]) == (413, "evidence_too_large")
    assert table_snapshot(db) == before
    assert _files(evidence_dir) == before_files


def test_just_over_the_limit_inside_the_form_overhead_is_still_refused(
    client, db, resident, settings, evidence_dir
):
    before_files = _files(evidence_dir)
    content = PDF_BYTES[:-7] + b"\0" * (settings.evidence_max_bytes - len(PDF_BYTES) + 10) + b"%%EOF\n"
    response = upload(client, resident, content)
    assert (response.status_code, response.json()["code"]) == (413, "evidence_too_large")
    assert _files(evidence_dir) == before_files


def test_a_bad_purpose_is_refused(client, resident):
    response = client.post(
        "/v1/me/evidence",
        files={"file": ("a.pdf", PDF_BYTES, "application/pdf")},
        data={"purpose": "fun"},
        headers=resident["headers"],
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_purpose")


def test_served_only_to_the_subject_reviewers_and_the_source(
    client, db, provider, resident, other_resident, operator
):
    record = a_penalty(client, db, provider, resident)
    evidence = upload(client, resident).json()["id"]
    # before it is attached, only its uploader reads it
    assert client.get(f"/v1/evidence/{evidence}/content", headers=operator["headers"]).status_code == 404
    filed = object_to(client, resident, record.id, evidence_ids=[evidence]).json()

    stranger = client.get(f"/v1/evidence/{evidence}/content", headers=other_resident["headers"])
    assert (stranger.status_code, stranger.json()["code"]) == (404, "evidence_not_found")
    assert client.get(f"/v1/evidence/{evidence}/content", headers=provider["headers"]).status_code == 403
    assert client.get(f"/v1/evidence/{evidence}/content", headers=operator["headers"]).content == PDF_BYTES
    source = client.get(
        f"/v1/partner/objections/{filed['id']}/evidence/{evidence}/content", headers=provider["headers"]
    )
    assert source.content == PDF_BYTES
    reads = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "evidence.read"
        )
    ).all()
    assert sorted(e.actor_type for e in reads) == ["operator", "partner"]
    # the subject's own read is not an access by someone else
    assert client.get(f"/v1/evidence/{evidence}/content", headers=resident["headers"]).status_code == 200
