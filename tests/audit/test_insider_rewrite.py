"""An insider with write access to the database cannot rewrite the audit log unseen (issue 17, finding 3):
entries are keyed (HMAC under a key outside the database), and the chains' heads are signed as public
checkpoints that copies kept outside are checked against."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.audit import checkpoints, service
from app.audit import tasks as audit_tasks
from app.audit.cli import app as audit_cli
from app.audit.models import AuditEntry
from app.audit.verify import ProblemKind, verify
from app.core.clock import utcnow
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.core.migrate import upgrade
from app.core.security import Crypto
from app.signing.keyring import Keyring
from tests.audit.helpers import allow_hand_edits, new_subject_id, record_scans


def plain_sha256(row: Any, prev_hash: str, *, with_key_id: bool = True) -> str:
    """What someone without the audit key can compute: the entry's canonical JSON, hashed with SHA-256."""
    content = {
        "id": row.id,
        "chain": row.chain,
        "seq": row.seq,
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "subject_id": row.subject_id,
        "action": row.action,
        "purpose": row.purpose,
        "legal_basis": row.legal_basis,
        "details": row.details,
        "created_at": row.created_at.isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    if with_key_id:
        content["key_id"] = row.key_id
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def rewrite(session: Session, chain: str, seq: int, purpose: str, *, strip_keys: bool) -> None:
    """The attack: change one entry, then recompute its hash, every later hash and the head."""
    allow_hand_edits(session)
    rows = session.execute(
        select(AuditEntry.__table__).where(AuditEntry.__table__.c.chain == chain).order_by(text("seq"))  # type: ignore[attr-defined]
    ).all()
    start = 1 if strip_keys else seq  # every entry when the keys go, else the edited one and the later ones
    prev = service.GENESIS_HASH if start == 1 else rows[start - 2].entry_hash
    for row in rows[start - 1 :]:
        values = row._asdict()
        if row.seq == seq:
            values["purpose"] = purpose
        if strip_keys:
            values["key_id"] = None
        forged = type("Forged", (), values)
        new_hash = plain_sha256(forged, prev, with_key_id=not strip_keys)
        session.execute(
            text(
                "UPDATE audit_entries SET purpose = :purpose, prev_hash = :prev, entry_hash = :hash, "
                "key_id = :key_id WHERE id = :id"
            ),
            {
                "purpose": values["purpose"],
                "prev": prev,
                "hash": new_hash,
                "key_id": values["key_id"],
                "id": row.id,
            },
        )
        prev = new_hash
    session.execute(
        text("UPDATE audit_chain_heads SET last_hash = :hash WHERE chain = :chain"),
        {"hash": prev, "chain": chain},
    )


def test_entries_are_keyed_with_the_active_audit_key(db: Session, settings: Settings) -> None:
    entries = record_scans(db, new_subject_id(), 2)
    assert {entry.key_id for entry in entries} == {service.active_key_id()}
    # not a plain SHA-256 of the content: the key is needed to compute it
    assert entries[0].entry_hash != plain_sha256(entries[0], service.GENESIS_HASH)


def test_the_rewrite_and_recompute_attack_is_caught(db: Session) -> None:
    # given a chain of four entries
    subject = new_subject_id()
    entries = record_scans(db, subject, 4)
    chain = service.chain_for(subject)
    # when someone with database access (triggers disabled) rewrites the second one and recomputes
    # every later hash and the head with plain SHA-256
    rewrite(db, chain, 2, "debt collection", strip_keys=False)
    # then verify says the log is not intact and names the rewritten entry
    result = verify(db, chain=chain)
    assert not result.ok
    assert [(p.kind, p.seq, p.entry_id) for p in result.problems] == [(ProblemKind.altered, 2, entries[1].id)]


def test_stripping_the_keys_too_is_caught_by_the_checkpoint(db: Session, settings: Settings) -> None:
    # given a chain whose head a checkpoint signed
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)
    keyring = Keyring(Crypto(settings).cipher)
    checkpoint = checkpoints.make(db, keyring)
    assert checkpoint is not None
    # when the whole chain is rewritten as if it had never been keyed (plain SHA-256 everywhere)
    rewrite(db, chain, 2, "debt collection", strip_keys=True)
    # then the chain alone looks whole, but the checkpoint does not match it any more
    assert verify(db, chain=chain).ok
    _, problems = checkpoints.verify_all(db, keyring)
    mine = [(p.kind, p.chain, p.seq, p.entry_id) for p in problems if p.chain in (chain, "checkpoints")]
    assert mine == [(ProblemKind.checkpoint_mismatch, chain, 3, entries[2].id)]


def test_a_checkpoint_is_public_and_verifies_with_the_published_keys(
    client: TestClient, db: Session, settings: Settings
) -> None:
    record_scans(db, new_subject_id(), 1)
    made = checkpoints.make(db, Keyring(Crypto(settings).cipher))
    assert made is not None
    db.commit()  # the test's savepoint: the app's session sees it

    listed = client.get("/v1/audit/checkpoints", params={"limit": 100}).json()["data"]
    published = next(item for item in listed if item["id"] == made.id)
    assert published["seq"] == made.seq and published["chains"] == made.chains >= 1
    # an outsider checks it with PyJWT against the published keys
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(published["token"])["kid"]
    claims = jwt.decode(published["token"], jwks[kid], algorithms=["EdDSA"])
    assert claims == {
        "typ": "xinyi-audit-checkpoint",
        "seq": published["seq"],
        "iat": int(made.created_at.timestamp()),
        "chains": published["chains"],
        "heads_sha256": published["heads_sha256"],
        "prev_sha256": published["prev_sha256"],
    }


@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh migrated SQLite file that the CLI and the worker's job find through XINYI_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url=url)
    monkeypatch.setenv("XINYI_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_the_worker_signs_what_moved_and_verify_checks_a_kept_copy(audit_db: Engine, tmp_path: Path) -> None:
    # given the platform's first checkpoint (its signing key's creation is on the system chain)
    assert audit_tasks.checkpoint(audit_db, utcnow()) is None  # nothing to sign yet: no key made either
    with Session(audit_db, expire_on_commit=False) as session:
        record_scans(session, new_subject_id(), 2)
        moving = new_subject_id()
        record_scans(session, moving, 1)
    first = audit_tasks.checkpoint(audit_db, utcnow())
    while (again := audit_tasks.checkpoint(audit_db, utcnow())) is not None:  # the key's own entry
        first = again
    # when one chain moves, the next checkpoint signs it alone
    with Session(audit_db, expire_on_commit=False) as session:
        record_scans(session, moving, 1)
    latest = audit_tasks.checkpoint(audit_db, utcnow())
    assert first is not None and latest == first + 1
    with Session(audit_db) as session:
        from app.audit.models import AuditCheckpoint

        signed = session.exec(select(AuditCheckpoint).where(AuditCheckpoint.seq == latest)).one()
        assert signed.chains == 1
    # an auditor keeps a copy of the public list
    with Session(audit_db) as session:
        from app.audit.models import AuditCheckpoint

        kept = {"data": [{"token": c.token} for c in session.exec(select(AuditCheckpoint)).all()]}
    copy = tmp_path / "kept.json"
    copy.write_text(json.dumps(kept))
    intact = CliRunner().invoke(audit_cli, ["verify", "--checkpoints", str(copy)])
    assert intact.exit_code == 0, intact.output
    assert (
        intact.output.startswith("audit log intact: ") and f"{latest} checkpoint(s) checked" in intact.output
    )

    # when an insider removes the last checkpoint, triggers off
    with audit_db.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_checkpoints_no_delete"))
        conn.execute(text("DROP TRIGGER audit_checkpoint_heads_no_delete"))
        conn.execute(
            text(
                "DELETE FROM audit_checkpoint_heads "
                "WHERE checkpoint_id IN (SELECT id FROM audit_checkpoints WHERE seq = :seq)"
            ),
            {"seq": latest},
        )
        conn.execute(text("DELETE FROM audit_checkpoints WHERE seq = :seq"), {"seq": latest})

    # then the database alone cannot tell, but the kept copy gives it away
    assert CliRunner().invoke(audit_cli, ["verify"]).exit_code == 0
    result = CliRunner().invoke(audit_cli, ["verify", "--checkpoints", str(copy), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert [(p["kind"], p["seq"]) for p in report["problems"]] == [("checkpoint_missing", latest)]


def test_a_checkpoint_removed_from_the_middle_leaves_a_gap(db: Session, settings: Settings) -> None:
    keyring = Keyring(Crypto(settings).cipher)
    made = []
    for _ in range(3):
        record_scans(db, new_subject_id(), 1)
        checkpoint = checkpoints.make(db, keyring)
        assert checkpoint is not None
        made.append(checkpoint)
    allow_checkpoint_edits(db)
    db.execute(text("DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = :id"), {"id": made[1].id})
    db.execute(text("DELETE FROM audit_checkpoints WHERE id = :id"), {"id": made[1].id})
    _, problems = checkpoints.verify_all(db, keyring)
    gap = [(p.kind, p.seq) for p in problems if p.chain == "checkpoints"]
    assert gap == [(ProblemKind.checkpoint_invalid, made[2].seq)]


def allow_checkpoint_edits(session: Session) -> None:
    """The append-only triggers of the checkpoint tables off, for the rest of the test's transaction."""
    for table in ("audit_checkpoints", "audit_checkpoint_heads"):
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
