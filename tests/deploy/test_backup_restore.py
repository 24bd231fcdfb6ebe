"""The restore drill the README's backup section describes: ``pg_dump`` in custom format -> ``pg_restore``
into a fresh database -> ``xinyi audit verify`` finds the log intact -> a pass signed before the dump
still verifies against the restored keys, and the restored service signs new ones (the ID-encryption keys
were kept outside the database, as they must be)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import make_engine
from app.core.migrate import upgrade
from app.core.principal import Principal
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.core.store import MemoryStore
from app.main import create_app
from app.signing import service as signing_service
from tests.deploy.pg import fresh_database, needs_postgresql
from tests.helpers import make_id_number, make_phone, process_env, sign_in

XINYI = str(Path(sys.executable).with_name("xinyi"))


def pg_client(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} (PostgreSQL's client) is not on PATH"
    return path


def libpq(url: str) -> str:
    """The URL pg_dump and pg_restore take: no SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def service_on(settings: Settings, url: str, sms: RecordingSender) -> TestClient:
    return TestClient(
        create_app(settings.model_copy(update={"database_url": url}), store=MemoryStore(), sms_sender=sms),
        raise_server_exceptions=False,
    )


@needs_postgresql
def test_a_restored_backup_keeps_its_audit_log_intact_and_its_passes_verifiable(
    settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "xinyi.dump"
    sms = RecordingSender()
    with fresh_database("backup") as source:
        # given a running city: a signing key, a resident who signed in, bound her ID and holds a pass
        upgrade(url=source)
        engine = make_engine(source)
        with Session(engine) as session:
            signing_service.rotate(session, Crypto(settings).cipher, Principal(type="system", id="test"))
            session.commit()
        with service_on(settings, source, sms) as client:
            resident = sign_in(client, sms, make_phone())
            bound = client.put(
                "/v1/me/identity",
                json={"name": "王芳", "id_number": make_id_number()},
                headers=resident["headers"],
            )
            assert bound.status_code == 200, bound.text
            issued = client.post("/v1/me/passes", headers=resident["headers"])
            assert issued.status_code == 201, issued.text
        with engine.connect() as conn:
            entries = conn.execute(text("SELECT count(*) FROM audit_entries")).scalar_one()
        engine.dispose()
        assert entries > 0

        # when it is dumped as the README says
        subprocess.run(  # noqa: S603 (PostgreSQL's own client)
            [
                pg_client("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={dump}",
                f"--dbname={libpq(source)}",
            ],
            check=True,
        )

    # and restored into a fresh database (the original is gone)
    with fresh_database("restored") as restored:
        subprocess.run(  # noqa: S603 (PostgreSQL's own client)
            [
                pg_client("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                f"--dbname={libpq(restored)}",
                str(dump),
            ],
            check=True,
        )

        # then the audit log is intact, every entry of it
        verified = subprocess.run(  # noqa: S603 (our own command)
            [XINYI, "audit", "verify"],
            env={**process_env(settings), "XINYI_DATABASE_URL": restored},  # the same keys, kept apart
            capture_output=True,
            text=True,
            check=False,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("audit log intact: ")
        assert re.search(rf" chain\(s\), {entries} entries, \d+ checkpoint\(s\) checked\n$", verified.stdout)

        with service_on(settings, restored, sms) as client:
            # and the pass signed before the dump verifies against the restored service's published keys
            token = issued.json()["token"]
            jwks = client.get("/.well-known/jwks.json").json()
            kid = jwt.get_unverified_header(token)["kid"]
            jwk = next(key for key in jwks["keys"] if key["kid"] == kid)
            claims = jwt.decode(
                token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], options={"verify_exp": False}
            )
            assert claims["exp"] == datetime.fromisoformat(issued.json()["expires_at"]).timestamp()
            # and the restored service signs again: the sealed private key opens with the kept key
            again = client.post("/v1/me/passes", headers=resident["headers"])
            assert again.status_code == 201, again.text
            assert jwt.get_unverified_header(again.json()["token"])["kid"] == kid
