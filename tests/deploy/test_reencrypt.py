"""``xinyi keys reencrypt``: retiring an ID-encryption key. Every sealed value (ID numbers, signing keys'
private halves, webhook secrets current and previous) moves under the active key, batch by batch; a run
cut short resumes; a second run changes nothing; a value under a key no longer configured stops it."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.audit.models import AuditEntry
from app.core.config import Settings, get_settings
from app.core.db import make_engine
from app.core.principal import Principal
from app.core.reseal import reseal_batch
from app.core.security import Crypto, FieldCipher, Sealed
from app.partners import service as partners_service
from app.signing import service as signing_service
from app.signing.cli import app as keys_cli
from app.signing.models import SigningKey
from app.subjects import service as subjects_service
from app.subjects.models import Subject
from app.webhooks import service as webhooks_service
from app.webhooks.models import WebhookEndpoint
from tests.helpers import make_id_number, table_snapshot

OLD = base64.urlsafe_b64encode(b"o" * 32).decode()
NEW = base64.urlsafe_b64encode(b"n" * 32).decode()
ADMIN = Principal(type="system", id="test")


def use_keys(monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], active: str) -> FieldCipher:
    monkeypatch.setenv("XINYI_ID_ENCRYPTION_KEYS", json.dumps(keys))
    monkeypatch.setenv("XINYI_ID_ENCRYPTION_ACTIVE_KID", active)
    get_settings.cache_clear()
    return Crypto(get_settings()).cipher


def seal_everything_under_old(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], str]:
    """Five residents, a signing key and a webhook endpoint whose secret was rotated (two secrets)."""
    cipher = use_keys(monkeypatch, {"old": OLD}, "old")
    crypto = Crypto(get_settings())
    numbers = [make_id_number(seq=f"{i:03d}") for i in range(5)]
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        for number in numbers:
            subjects_service.get_or_create_person(session, crypto, number)
        signing_service.rotate(session, cipher, ADMIN, delay=timedelta(0))
        partner = partners_service.create_partner(session, ADMIN, "某银行", "bank")
        owner = Principal(type="partner", id=partner.id, partner_kind="bank")
        settings = Settings(_env_file=None, webhook_allow_private_urls=True)  # type: ignore[call-arg]
        endpoint, _ = webhooks_service.create_endpoint(
            session,
            cipher,
            settings,
            owner,
            url="https://bank.example/hooks",
            description=None,
            event_types=None,
        )
        _, secret = webhooks_service.rotate_secret(session, cipher, owner, endpoint.id)
        session.commit()
    engine.dispose()
    return numbers, secret


def sealed_kids(url: str) -> dict[str, set[str | None]]:
    engine = make_engine(url)
    with Session(engine) as session:
        endpoints = session.exec(select(WebhookEndpoint)).all()
        kids = {
            "subjects": {s.id_number_kid for s in session.exec(select(Subject)).all()},
            "signing_keys": {k.private_cipher_kid for k in session.exec(select(SigningKey)).all()},
            "webhook_secrets": {e.secret_kid for e in endpoints} | {e.previous_secret_kid for e in endpoints},
        }
    engine.dispose()
    return kids


def test_reencrypt_moves_every_sealed_value_under_the_active_key_and_resumes(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given values sealed under "old", and a new active key "new" beside it
    numbers, secret = seal_everything_under_old(own_database, monkeypatch)
    cipher = use_keys(monkeypatch, {"old": OLD, "new": NEW}, "new")
    # and a first run cut short after its first batch of two ID numbers
    engine = make_engine(own_database)
    with Session(engine) as session:
        assert reseal_batch(session, cipher, subjects_service.SEALED_COLUMNS[0], "", 2)[0] == 2
        session.commit()

    # when the command runs (in batches of two)
    result = CliRunner().invoke(keys_cli, ["reencrypt", "--batch-size", "2"])

    # then it finishes the rest, and names the key that may now go
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "subjects.id_number_ciphertext: 3 re-sealed under new",
        "signing_keys.private_ciphertext: 1 re-sealed under new",
        "webhook_endpoints.secret_ciphertext: 1 re-sealed under new",
        "webhook_endpoints.previous_secret_ciphertext: 1 re-sealed under new",
        "key ids still in use: new",
        "no value is sealed under old: it may leave XINYI_ID_ENCRYPTION_KEYS",
    ]
    assert sealed_kids(own_database) == {
        "subjects": {"new"},
        "signing_keys": {"new"},
        "webhook_secrets": {"new"},
    }
    # and everything opens with the new key alone
    only_new = FieldCipher({"new": NEW}, "new")
    with Session(engine) as session:
        opened = sorted(
            only_new.open(Sealed("new", s.id_number_ciphertext or ""), subjects_service.ID_NUMBER_PURPOSE)
            for s in session.exec(select(Subject)).all()
        )
        key = session.exec(select(SigningKey)).one()
        signing_service.private_key(only_new, key)  # raises if it does not open
        endpoint = session.exec(select(WebhookEndpoint)).one()
        assert secret in webhooks_service.live_secrets(only_new, endpoint, endpoint.updated_at)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "keys.reencrypted")).one()
        assert entry.details["resealed"]["subjects.id_number_ciphertext"] == 3
    assert opened == sorted(numbers)

    # when it runs again, nothing changes
    with Session(engine) as session:
        before = table_snapshot(session)
    again = CliRunner().invoke(keys_cli, ["reencrypt"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[:4] == [
        "subjects.id_number_ciphertext: 0 re-sealed under new",
        "signing_keys.private_ciphertext: 0 re-sealed under new",
        "webhook_endpoints.secret_ciphertext: 0 re-sealed under new",
        "webhook_endpoints.previous_secret_ciphertext: 0 re-sealed under new",
    ]
    with Session(engine) as session:
        after = table_snapshot(session)
    engine.dispose()
    # (beside the run's own audit entry)
    assert {k: v for k, v in after.items() if not k.startswith("audit_")} == {
        k: v for k, v in before.items() if not k.startswith("audit_")
    }


def test_a_value_under_a_key_no_longer_configured_stops_the_run_and_changes_nothing(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given values sealed under "old", and settings that dropped "old" too early
    seal_everything_under_old(own_database, monkeypatch)
    use_keys(monkeypatch, {"new": NEW}, "new")
    engine = make_engine(own_database)
    with Session(engine) as session:
        before = table_snapshot(session)

    # when
    result = CliRunner().invoke(keys_cli, ["reencrypt"])

    # then one clear line, exit 1, and nothing re-sealed
    assert result.exit_code == 1
    assert "error: unknown_sealing_key: subjects.id_number_ciphertext of sub_" in result.output
    assert "put that key back, then run this again" in result.output
    with Session(engine) as session:
        assert table_snapshot(session) == before
        assert (
            session.execute(text("SELECT count(*) FROM subjects WHERE id_number_kid = 'old'")).scalar() == 5
        )
    engine.dispose()
