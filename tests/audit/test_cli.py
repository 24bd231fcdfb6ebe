"""``xinyi audit verify`` against a migrated database file of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from app.audit import service
from app.audit.cli import app as audit_cli
from app.audit.models import AuditEntry
from app.core.config import get_settings
from app.core.db import make_engine
from app.core.migrate import upgrade
from tests.audit.helpers import new_subject_id, record_scans


@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Engine]]:
    """A fresh migrated SQLite file that the CLI finds through XINYI_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url=url)
    monkeypatch.setenv("XINYI_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    get_settings.cache_clear()


def _write_two_chains(engine: Engine) -> tuple[str, list[AuditEntry]]:
    subject = new_subject_id()
    with Session(engine, expire_on_commit=False) as session:
        entries = record_scans(session, subject, 3)
        record_scans(session, new_subject_id(), 2)
        session.commit()
    return subject, entries


def test_verify_exits_0_on_an_intact_log(audit_db: tuple[str, Engine]) -> None:
    # given a log of two chains, five entries
    _, engine = audit_db
    _write_two_chains(engine)

    # when
    result = CliRunner().invoke(audit_cli, ["verify"])

    # then
    assert result.exit_code == 0, result.output
    assert result.output == "audit log intact: 2 chain(s), 5 entries, 0 checkpoint(s) checked\n"


def test_verify_exits_1_and_names_an_entry_edited_by_hand(audit_db: tuple[str, Engine]) -> None:
    # given a log in which someone with database access rewrote one entry
    _, engine = audit_db
    subject, entries = _write_two_chains(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(
            text("UPDATE audit_entries SET legal_basis = 'none' WHERE id = :id"), {"id": entries[1].id}
        )

    # when
    result = CliRunner().invoke(audit_cli, ["verify"])

    # then the entry is named, with its chain, seq and what is wrong
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"altered: entry {entries[1].id} chain subject:{subject} seq 2: "
        "the stored hash does not match the entry's content",
        "audit log NOT intact: 1 problem(s); 2 chain(s), 5 entries, 0 checkpoint(s) checked",
    ]


def test_verify_json_names_a_removed_entry(audit_db: tuple[str, Engine]) -> None:
    # given a log from which the last entry of a chain was deleted
    _, engine = audit_db
    subject, entries = _write_two_chains(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[2].id})

    # when only that chain is checked
    chain = service.chain_for(subject)
    result = CliRunner().invoke(audit_cli, ["verify", "--chain", chain, "--json"])

    # then
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert (report["ok"], report["chains"], report["entries"]) == (False, 1, 2)
    assert [(p["kind"], p["chain"], p["seq"], p["entry_id"]) for p in report["problems"]] == [
        ("missing", chain, 3, None)
    ]
