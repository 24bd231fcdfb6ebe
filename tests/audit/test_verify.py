"""The hash chain: how record() builds it, and how verify() names the first entry edited or removed."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.audit import service
from app.audit.models import AuditChainHead, AuditEntry
from app.audit.verify import ProblemKind, verify
from app.core.config import Settings
from app.core.principal import SYSTEM
from tests.audit.helpers import allow_hand_edits, new_subject_id, record_scans, written


def _problems(session: Session, chain: str) -> list[tuple[ProblemKind, str, int, str | None]]:
    result = verify(session, chain=chain)
    return [(p.kind, p.chain, p.seq, p.entry_id) for p in result.problems]


def _stored(session: Session, chain: str) -> list[tuple[int, str, str, str]]:
    rows = session.execute(
        text("SELECT seq, id, prev_hash, entry_hash FROM audit_entries WHERE chain = :chain ORDER BY seq"),
        {"chain": chain},
    )
    return [tuple(row) for row in rows]


def test_record_builds_one_linked_chain_per_subject(db: Session) -> None:
    # given two subjects
    alice, bob = new_subject_id(), new_subject_id()

    # when entries about them are recorded, interleaved
    a1 = record_scans(db, alice, 2)
    b1 = record_scans(db, bob, 1)
    a2 = record_scans(db, alice, 1)

    # then each subject has its own chain, numbered 1..n, each entry carrying its predecessor's hash
    alice_chain = service.chain_for(alice)
    assert alice_chain == f"subject:{alice}"
    assert _stored(db, alice_chain) == [
        (1, a1[0].id, service.GENESIS_HASH, a1[0].entry_hash),
        (2, a1[1].id, a1[0].entry_hash, a1[1].entry_hash),
        (3, a2[0].id, a1[1].entry_hash, a2[0].entry_hash),
    ]
    assert _stored(db, service.chain_for(bob)) == [(1, b1[0].id, service.GENESIS_HASH, b1[0].entry_hash)]
    assert all(e.entry_hash == service.hash_of(e) for e in a1 + a2 + b1)
    head = db.get(AuditChainHead, alice_chain)
    assert head is not None
    assert (head.last_seq, head.last_hash) == (3, a2[0].entry_hash)

    # and both verify
    for chain in (alice_chain, service.chain_for(bob)):
        result = verify(db, chain=chain)
        assert result.ok, result.problems
        assert result.chains == 1
    assert verify(db, chain=alice_chain).entries == 3


def test_entries_about_no_subject_go_to_the_system_chain(db: Session) -> None:
    ref = service.record(
        db, actor=SYSTEM, subject_id=None, action="test.system_action", purpose="p", legal_basis="l"
    )
    [entry] = written(db, [ref])

    assert entry.chain == service.SYSTEM_CHAIN == "system"
    assert entry.subject_id is None
    assert verify(db, chain="system").ok


def test_verify_reads_in_batches_smaller_than_a_chain(db: Session) -> None:
    # given a chain longer than the batch the verifier reads at a time
    subject = new_subject_id()
    record_scans(db, subject, 7)
    chain = service.chain_for(subject)
    progress: list[int] = []

    # when
    result = verify(db, chain=chain, batch_size=3, on_progress=progress.append)

    # then the walk crosses batch boundaries without losing the chain's state
    assert (result.ok, result.chains, result.entries) == (True, 1, 7)
    assert progress == [3, 3, 1]


def test_the_database_refuses_a_plain_update_or_delete(db: Session) -> None:
    # given an entry, with the append-only trigger in place
    subject = new_subject_id()
    [entry] = record_scans(db, subject, 1)

    # when someone edits or deletes it with plain SQL, then the database refuses
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_entries SET purpose = 'nothing' WHERE id = :id"), {"id": entry.id})
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entry.id})

    # and the entry is unchanged
    stored = db.execute(select(AuditEntry.__table__).where(AuditEntry.__table__.c.id == entry.id)).one()  # type: ignore[attr-defined]
    assert (stored.purpose, stored.entry_hash) == ("deposit-free rental", entry.entry_hash)
    assert verify(db, chain=service.chain_for(subject)).ok


def test_an_entry_edited_by_hand_is_named_as_altered(db: Session) -> None:
    # given a chain of three entries
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)

    # when someone with database access rewrites the purpose of the middle one
    allow_hand_edits(db)
    db.execute(
        text("UPDATE audit_entries SET purpose = 'debt collection' WHERE id = :id"), {"id": entries[1].id}
    )

    # then verify names exactly that entry
    assert _problems(db, chain) == [(ProblemKind.altered, chain, 2, entries[1].id)]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(db: Session) -> None:
    # given a chain of three entries
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)

    # when the middle one is rewritten and its hash recomputed to match
    allow_hand_edits(db)
    as_recorded = {
        field.name: getattr(entries[1], field.name) for field in dataclasses.fields(service.RecordedEntry)
    }
    forged = dataclasses.replace(service.RecordedEntry(**as_recorded), purpose="debt collection")
    db.execute(
        text("UPDATE audit_entries SET purpose = :purpose, entry_hash = :hash WHERE id = :id"),
        {"purpose": forged.purpose, "hash": service.hash_of(forged), "id": entries[1].id},
    )

    # then the entry after it no longer links to it
    assert _problems(db, chain) == [(ProblemKind.broken_link, chain, 3, entries[2].id)]


def test_a_removed_middle_entry_is_named_as_missing(db: Session) -> None:
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)

    allow_hand_edits(db)
    db.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[1].id})

    # seq 2 is gone; the first entry after the gap is named
    assert _problems(db, chain) == [(ProblemKind.missing, chain, 2, entries[2].id)]


def test_a_removed_middle_entry_with_the_rest_renumbered_is_named(db: Session) -> None:
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)

    allow_hand_edits(db)
    db.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[1].id})
    db.execute(text("UPDATE audit_entries SET seq = 2 WHERE id = :id"), {"id": entries[2].id})
    db.execute(text("UPDATE audit_chain_heads SET last_seq = 2 WHERE chain = :chain"), {"chain": chain})

    assert _problems(db, chain) == [(ProblemKind.altered, chain, 2, entries[2].id)]


def test_a_removed_last_entry_is_caught_by_the_head(db: Session) -> None:
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)

    allow_hand_edits(db)
    db.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[2].id})

    # the head still counts three entries: seq 3 was removed, no entry left to name
    result = verify(db, chain=chain)
    assert [(p.kind, p.chain, p.seq, p.entry_id) for p in result.problems] == [
        (ProblemKind.missing, chain, 3, None)
    ]
    assert entries[1].id in result.problems[0].detail


def test_a_chain_with_every_entry_removed_is_caught_by_the_head(db: Session) -> None:
    subject = new_subject_id()
    record_scans(db, subject, 2)
    chain = service.chain_for(subject)

    allow_hand_edits(db)
    db.execute(text("DELETE FROM audit_entries WHERE chain = :chain"), {"chain": chain})

    result = verify(db, chain=chain)
    assert [(p.kind, p.chain, p.seq, p.entry_id) for p in result.problems] == [
        (ProblemKind.missing, chain, 1, None)
    ]
    assert (result.chains, result.entries) == (1, 0)


def test_a_head_edited_by_hand_is_named(db: Session) -> None:
    subject = new_subject_id()
    entries = record_scans(db, subject, 2)
    chain = service.chain_for(subject)

    db.execute(
        text("UPDATE audit_chain_heads SET last_hash = :hash WHERE chain = :chain"),
        {"hash": "f" * 64, "chain": chain},
    )

    assert _problems(db, chain) == [(ProblemKind.head_mismatch, chain, 2, entries[1].id)]


def test_an_entry_slipped_into_another_subjects_chain_is_named(db: Session) -> None:
    # given two subjects' chains
    alice, mallory = new_subject_id(), new_subject_id()
    entries = record_scans(db, alice, 2)
    chain = service.chain_for(alice)

    # when an entry about mallory is appended by hand to alice's chain, hashes and head made to fit
    forged = AuditEntry(
        id="aud_FORGED0000000000000000000",
        chain=chain,
        seq=3,
        actor_type="partner",
        actor_id="ptn_TESTPOWERBANK",
        subject_id=mallory,
        action="pass.verified",
        purpose="deposit-free rental",
        legal_basis="subject consent",
        details={},
        created_at=entries[1].created_at,
        prev_hash=entries[1].entry_hash,
        entry_hash="",
        key_id=entries[1].key_id,  # someone who holds the audit key, too
    )
    forged.entry_hash = service.hash_of(forged)
    db.add(forged)
    db.flush()
    db.execute(
        text("UPDATE audit_chain_heads SET last_seq = 3, last_hash = :hash WHERE chain = :chain"),
        {"hash": forged.entry_hash, "chain": chain},
    )

    # then
    assert _problems(db, chain) == [(ProblemKind.wrong_chain, chain, 3, forged.id)]


def test_only_the_first_problem_of_a_chain_is_named_and_other_chains_are_unaffected(db: Session) -> None:
    # given two subjects
    alice, bob = new_subject_id(), new_subject_id()
    alice_entries = record_scans(db, alice, 4)
    record_scans(db, bob, 2)

    # when two of alice's entries are edited
    allow_hand_edits(db)
    for entry in (alice_entries[1], alice_entries[3]):
        db.execute(text("UPDATE audit_entries SET action = 'x' WHERE id = :id"), {"id": entry.id})

    # then alice's chain is named once, at the first edit; bob's verifies
    alice_chain = service.chain_for(alice)
    result = verify(db, chain=alice_chain)
    assert [(p.kind, p.seq, p.entry_id) for p in result.problems] == [
        (ProblemKind.altered, 2, alice_entries[1].id)
    ]
    assert (result.chains, result.entries) == (1, 4)
    assert verify(db, chain=service.chain_for(bob)).ok


def test_an_entry_hashes_as_on_the_day_it_was_written(settings: Settings) -> None:
    """Entries already in the log must keep verifying: the canonical JSON the hash covers, spelled out here,
    never changes (keys sorted, no spaces, the time to the microsecond, ``key_id`` only when keyed)."""
    entry = service.RecordedEntry(
        id="aud_01",
        chain="subject:sub_01",
        seq=7,
        actor_type="partner",
        actor_id="ptn_01",
        subject_id="sub_01",
        action="pass.verified",
        purpose="信易租",
        legal_basis="presented",
        details={"decision": "approved"},
        created_at=datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC),
        prev_hash="ab" * 32,
        entry_hash="",
        key_id="ta1",
    )
    canonical = (
        '{"action":"pass.verified","actor_id":"ptn_01","actor_type":"partner","chain":"subject:sub_01",'
        '"created_at":"2026-05-04T03:02:01.000000+00:00","details":{"decision":"approved"},"id":"aud_01",'
        '"key_id":"ta1","legal_basis":"presented","prev_hash":"' + "ab" * 32 + '","purpose":"信易租","seq":7,'
        '"subject_id":"sub_01"}'
    )
    key = settings.audit_hmac_keys["ta1"].encode()

    assert service.hash_of(entry) == hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
    unkeyed = canonical.replace('"key_id":"ta1",', "")
    assert (
        service.hash_of(dataclasses.replace(entry, key_id=None))
        == hashlib.sha256(unkeyed.encode()).hexdigest()
    )
