"""Evidence files that are what they say, and shortcuts through the objection and repair APIs."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from app.records.models import CreditRecord
from app.scoring.models import CreditScore
from tests.clock import days_ago
from tests.records.helpers import penalty, post_batch

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# Each page of pdf_pages() is filled with its own colour (RGB 0–255), so a test can tell which one it sees
PAGE_COLOURS = [(204, 26, 26), (26, 77, 204), (26, 153, 51)]


def pdf_pages(count: int = 2) -> bytes:
    """A valid PDF of ``count`` A4 pages (at most 3), each a coloured block with "Page n" in Helvetica."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b""]
    kids = []
    for number in range(1, count + 1):
        r, g, b = (c / 255 for c in PAGE_COLOURS[number - 1])
        stream = (
            f"{r:.3f} {g:.3f} {b:.3f} rg 56 400 483 380 re f BT /F1 48 Tf 0 g 56 300 Td (Page {number}) Tj ET"
        )
        objects.append(f"<</Length {len(stream)}>>stream\n{stream}\nendstream".encode())
        content = len(objects)
        objects.append(
            f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents {content} 0 R"
            "/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>".encode()
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<</Type/Pages/Count {count}/Kids[{' '.join(kids)}]>>".encode()
    return _pdf(objects)


# The title pdf_chinese_text() shows
CHINESE_TITLE = "行政复议决定书"


def pdf_chinese_text() -> bytes:
    """One A4 page with ``CHINESE_TITLE`` in black, in STSong-Light *not embedded* (Encoding UniGB-UCS2-H), as
    many official PDFs made with iText are: a reader needs the UniGB-UCS2-H CMap to draw any of it."""
    text = CHINESE_TITLE.encode("utf-16-be").hex().upper()
    stream = f"BT /F1 48 Tf 0 g 56 600 Td <{text}> Tj ET"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Count 1/Kids[4 0 R]>>",
        f"<</Length {len(stream)}>>stream\n{stream}\nendstream".encode(),
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 3 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Type/Font/Subtype/Type0/BaseFont/STSong-Light/Encoding/UniGB-UCS2-H/DescendantFonts[6 0 R]>>",
        b"<</Type/Font/Subtype/CIDFontType0/BaseFont/STSong-Light"
        b"/CIDSystemInfo<</Registry(Adobe)/Ordering(GB1)/Supplement 4>>/FontDescriptor 7 0 R>>",
        b"<</Type/FontDescriptor/FontName/STSong-Light/Flags 6/FontBBox[-25 -254 1000 880]/ItalicAngle 0"
        b"/Ascent 880/Descent -120/CapHeight 880/StemV 93>>",
    ]
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    """``objects`` numbered from 1 (the first is the catalogue), with their cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def upload(
    client: TestClient,
    who: dict[str, Any],
    content: bytes = PDF_BYTES,
    *,
    purpose: str = "objection",
    name: str = "收据.pdf",
    content_type: str = "application/pdf",
):
    return client.post(
        "/v1/me/evidence",
        files={"file": (name, content, content_type)},
        data={"purpose": purpose},
        headers=who["headers"],
    )


def evidence_id(client: TestClient, who: dict[str, Any], purpose: str = "objection") -> str:
    response = upload(client, who, purpose=purpose)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def a_penalty(
    client: TestClient,
    db: Session,
    provider: dict[str, Any],
    resident: dict[str, Any],
    *,
    severity: str = "general",
    decision_date: date | str = days_ago(86).isoformat(),
    **fields: Any,
) -> CreditRecord:
    source_record_id = f"P-{uuid.uuid4().hex[:10]}"
    response = post_batch(
        client,
        provider,
        [
            penalty(
                resident["id_number"],
                severity,
                str(decision_date),
                source_record_id=source_record_id,
                **fields,
            )
        ],
    )
    assert response.status_code == 201 and response.json()["errors"] == [], response.text
    return db.exec(
        select(CreditRecord)
        .where(CreditRecord.source_record_id == source_record_id)
        .execution_options(populate_existing=True)
    ).one()


def record_now(db: Session, record_id: str) -> CreditRecord | None:
    return db.exec(
        select(CreditRecord).where(CreditRecord.id == record_id).execution_options(populate_existing=True)
    ).first()


def score_of(db: Session, subject_id: str) -> CreditScore:
    return db.exec(
        select(CreditScore)
        .where(CreditScore.subject_id == subject_id)
        .execution_options(populate_existing=True)
    ).one()


def object_to(client: TestClient, who: dict[str, Any], record_id: str, **extra: Any):
    body = {"record_id": record_id, "reason": "该处罚已被复议撤销，记录有误。", **extra}
    return client.post(
        "/v1/me/objections", json=body, headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex}
    )


def answer(client: TestClient, operator: dict[str, Any], objection_id: str, **body: Any):
    return client.post(
        f"/v1/admin/objections/{objection_id}/answer",
        json=body,
        headers={**operator["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
