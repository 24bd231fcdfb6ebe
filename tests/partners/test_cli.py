"""``xinyi partners …`` against its own migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.audit.models import AuditEntry
from app.core.config import get_settings
from app.core.db import make_engine
from app.core.errors import Unauthenticated
from app.core.migrate import upgrade
from app.partners import service
from app.partners.cli import app
from app.partners.models import ApiKey, Partner


@pytest.fixture
def cli_db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url=url)
    get_settings.cache_clear()  # the CLI reads XINYI_DATABASE_URL through the cached settings
    yield url
    get_settings.cache_clear()


def run(url: str, *args: str):
    result = CliRunner().invoke(app, list(args), env={"XINYI_DATABASE_URL": url})
    get_settings.cache_clear()
    return result


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(model)).one()
    finally:
        engine.dispose()


def test_create_list_issue_and_revoke_from_the_command_line(cli_db):
    created = run(cli_db, "create", "--name", "徽商银行", "--kind", "bank")
    assert created.exit_code == 0, created.output
    partner_id = created.stdout.split()[0]
    assert partner_id.startswith("ptn_")
    assert created.stdout.split()[1:] == ["bank", "active", "徽商银行"]

    listed = run(cli_db, "list")
    assert listed.exit_code == 0
    assert listed.stdout == created.stdout

    issued = run(cli_db, "key-create", partner_id, "--name", "reports", "--scope", "reports:read")
    assert issued.exit_code == 0, issued.output
    fields = dict(line.split(":  ", 1) for line in issued.stdout.strip().splitlines())
    secret, key_id = fields["secret"].strip(), fields["id"].strip()
    assert fields["scopes"].strip() == "reports:read"
    assert secret.startswith(fields["prefix"].strip() + "_")
    assert "shown this once" in issued.stderr

    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            principal = service.principal_from_api_key(session, secret)
            assert (principal.id, principal.scopes) == (partner_id, frozenset({"reports:read"}))
            session.rollback()

        keys = run(cli_db, "keys", partner_id)
        assert keys.exit_code == 0
        assert secret not in keys.stdout
        assert keys.stdout.split()[:3] == [key_id, fields["prefix"].strip(), "active"]

        revoked = run(cli_db, "key-revoke", key_id)
        assert revoked.exit_code == 0, revoked.output
        assert revoked.stdout.split()[2] == "revoked"

        with Session(engine) as session:
            with pytest.raises(Unauthenticated) as refused:
                service.principal_from_api_key(session, secret)
            assert refused.value.code == "api_key_revoked"
            actions = session.exec(select(AuditEntry.action, AuditEntry.actor_id)).all()
            assert sorted(actions) == [
                ("api_key.created", "cli"),
                ("api_key.revoked", "cli"),
                ("partner.created", "cli"),
            ]
    finally:
        engine.dispose()


def test_suspend_and_reactivate_from_the_command_line(cli_db):
    partner_id = run(
        cli_db, "create", "--name", "政务服务中心", "--kind", "government_counter"
    ).stdout.split()[0]

    assert run(cli_db, "suspend", partner_id).stdout.split()[2] == "suspended"
    assert run(cli_db, "reactivate", partner_id).stdout.split()[2] == "active"


def test_refused_commands_exit_non_zero_and_write_nothing(cli_db):
    partner_id = run(cli_db, "create", "--name", "Bikes", "--kind", "merchant").stdout.split()[0]

    bad_kind = run(cli_db, "create", "--name", "Casino", "--kind", "casino")
    assert bad_kind.exit_code == 2  # a usage error, before anything runs
    bad_scope = run(cli_db, "key-create", partner_id, "--scope", "reports:read")
    assert bad_scope.exit_code == 1
    assert bad_scope.stderr.startswith("error: scope_not_allowed (scopes):")
    unknown = run(cli_db, "key-create", "ptn_nope")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: partner_not_found (partner_id):")
    unknown_key = run(cli_db, "key-revoke", "key_nope")
    assert unknown_key.exit_code == 1
    assert unknown_key.stderr.startswith("error: api_key_not_found (key_id):")

    assert (count(cli_db, Partner), count(cli_db, ApiKey), count(cli_db, AuditEntry)) == (1, 0, 1)
