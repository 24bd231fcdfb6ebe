"""Data providers with API keys, residents with a bound ID, and record rows, for records and scoring tests."""

from __future__ import annotations

import csv
import secrets
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.core.security import random_token, sha256_hex
from app.core.sms import RecordingSender
from app.partners.models import ApiKey, Partner
from app.scoring.models import CreditScore, ScoreHistory
from tests.clock import days_ago
from tests.helpers import make_id_number, make_phone, sign_in

_KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def make_partner_key(
    db: Session,
    kind: str = "data_provider",
    scopes: tuple[str, ...] = ("records:write",),
    name: str = "乌鲁木齐市市场监督管理局",
) -> dict[str, Any]:
    """A partner and an API key, made as rows (``xyk_<prefix>_<secret>``, only the hash stored)."""
    partner = Partner(name=name, kind=kind, created_by="usr_TESTSETUP")
    db.add(partner)
    db.flush()
    prefix = "xyk_" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(8))
    secret = f"{prefix}_{random_token(32)}"
    db.add(
        ApiKey(
            partner_id=partner.id,
            name="ingestion",
            prefix=prefix,
            secret_hash=sha256_hex(secret),
            scopes=list(scopes),
            created_by="usr_TESTSETUP",
        )
    )
    db.commit()  # releases the test's savepoint only; the outer transaction is still rolled back
    return {"id": partner.id, "headers": {"Authorization": f"Bearer {secret}"}}


def new_id_number() -> str:
    """An ID number no other test (nor an earlier committed run) uses."""
    seq = f"{secrets.randbelow(1000):03d}"
    born = f"19{secrets.randbelow(80) + 20:02d}0{secrets.randbelow(9) + 1}1{secrets.randbelow(9)}"
    region = f"{secrets.randbelow(800000) + 110000:06d}"
    return make_id_number(region=region, born=born, seq=seq)


def resident_with_identity(
    client: TestClient, sms: RecordingSender, id_number: str | None = None
) -> dict[str, Any]:
    pair = sign_in(client, sms, make_phone())
    number = id_number or new_id_number()
    bound = client.put("/v1/me/identity", json={"name": "张三", "id_number": number}, headers=pair["headers"])
    assert bound.status_code == 200, bound.text
    return {
        "id": pair["user_id"],
        "headers": pair["headers"],
        "refresh_token": pair["refresh_token"],
        "subject_id": bound.json()["subject_id"],
        "id_number": number,
    }


def make_operator(client: TestClient, sms: RecordingSender, db: Session) -> dict[str, Any]:
    pair = sign_in(client, sms, make_phone())
    user = db.get(User, pair["user_id"])
    assert user is not None
    user.roles = ["operator"]
    db.add(user)
    db.commit()
    return {"id": pair["user_id"], "headers": pair["headers"], "refresh_token": pair["refresh_token"]}


def post_batch(
    client: TestClient, provider: dict[str, Any], rows: list[Any], key: str | None = None, **extra: Any
):
    headers = {**provider["headers"], "Idempotency-Key": key or uuid.uuid4().hex, **extra.pop("headers", {})}
    return client.post("/v1/records/batches", json={"records": rows}, headers=headers)


def uid(prefix: str = "r") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def penalty(
    id_number: str, severity: str = "general", decision_date: str = days_ago(86).isoformat(), **fields: Any
) -> dict[str, Any]:
    return {
        "source_record_id": fields.pop("source_record_id", uid("pen")),
        "category": "administrative_penalty",
        "id_number": id_number,
        "severity": severity,
        "decision_date": decision_date,
        "title": "未按规定办理",
        **fields,
    }


def black_list(
    subject: dict[str, str], start_date: str = days_ago(56).isoformat(), **fields: Any
) -> dict[str, Any]:
    return {
        "source_record_id": fields.pop("source_record_id", uid("blk")),
        "category": "black_list",
        **subject,
        "legal_basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        "start_date": start_date,
        **fields,
    }


def csv_text(*rows: dict[str, Any]) -> str:
    """Rows as a record file's CSV: a header of every column any row has, a blank where a row lacks one."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    lines = [",".join(columns)] + [",".join(str(row.get(name, "")) for name in columns) for row in rows]
    return "\n".join(lines) + "\n"


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["source_record_id", "category", "id_number", "severity", "decision_date"]
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def scores_of(engine, subject_ids: set[str]) -> dict[str, tuple]:
    with Session(engine) as session:
        rows = session.exec(select(CreditScore).where(CreditScore.subject_id.in_(subject_ids))).all()  # type: ignore[attr-defined]
        return {r.subject_id: (r.score, r.level, r.contributions, r.explanation, r.digest) for r in rows}


def written_at(engine, subject_ids: set[str]) -> tuple[dict[str, object], int]:
    """When each score was last written, and how many history rows the subjects have."""
    with Session(engine) as session:
        scores = session.exec(select(CreditScore).where(CreditScore.subject_id.in_(subject_ids))).all()  # type: ignore[attr-defined]
        history = session.exec(select(ScoreHistory).where(ScoreHistory.subject_id.in_(subject_ids))).all()  # type: ignore[attr-defined]
        return {r.subject_id: r.computed_at for r in scores}, len(history)
