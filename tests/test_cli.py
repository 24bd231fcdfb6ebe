"""The top-level ``xinyi`` commands: migrate, demo load, admin create."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.cli import app
from app.core.clock import business_date
from app.core.config import get_settings
from app.core.db import make_engine
from app.enterprises.models import Enterprise
from app.loans.models import LoanProduct
from app.partners.models import ApiKey, Partner
from app.records.models import CreditRecord, RecordBatch
from app.records.platform import PLATFORM_SOURCE
from app.scoring.models import CreditScore


@pytest.fixture
def cli_url(tmp_path: Path) -> Iterator[str]:
    get_settings.cache_clear()
    yield f"sqlite:///{tmp_path / 'cli.db'}"
    get_settings.cache_clear()


def run(url: str, *args: str):
    env = {"XINYI_DATABASE_URL": url, "XINYI_ENV": "development", "COLUMNS": "200"}
    result = CliRunner().invoke(app, list(args), env=env)
    get_settings.cache_clear()
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rows(url: str, statement):
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.exec(statement).all())
    finally:
        engine.dispose()


def test_migrate_then_demo_load_twice(cli_url: str) -> None:
    assert run(cli_url, "migrate").exit_code == 0
    first = run(cli_url, "demo", "load", "--port", str(free_port()))
    assert first.exit_code == 0, first.output
    keys_first = re.findall(r"Bearer (xyk_\S+)", first.stdout)
    assert len(keys_first) == 5
    assert len(re.findall(r"^Rental rnt_", first.stdout, re.M)) == 3  # the demo merchant's rental flows
    second = run(cli_url, "demo", "load", "--port", str(free_port()))
    assert second.exit_code == 0, second.output
    keys_second = re.findall(r"Bearer (xyk_\S+)", second.stdout)
    assert len(keys_second) == 5 and not set(keys_first) & set(keys_second)
    assert "Rental rnt_" not in second.stdout

    # loading again found everything it made the first time
    assert len(rows(cli_url, select(User))) == 5
    assert len(rows(cli_url, select(Partner))) == 5
    # each demo bank offers one 信易贷 product, made once
    assert len(rows(cli_url, select(LoanProduct))) == 2
    assert len(rows(cli_url, select(Enterprise))) == 1
    # the first run's keys were revoked, the second run's are live
    live = rows(cli_url, select(ApiKey).where(col(ApiKey.revoked_at).is_(None)))
    assert sorted(k.prefix for k in live) == sorted("_".join(k.split("_")[:2]) for k in keys_second)
    staff = {tuple(u.roles) for u in rows(cli_url, select(User)) if u.roles}
    assert staff == {("operator",), ("auditor",)}
    # the regulator's demo records landed once and scored their subjects: the good resident qualifies for
    # deposit-free rental (A), the one with a penalty does not (C)
    regulator = col(CreditRecord.source) != PLATFORM_SOURCE  # the demo rentals add platform records
    assert len(rows(cli_url, select(CreditRecord).where(regulator))) == 8
    users = {u.phone_masked: u.subject_id for u in rows(cli_url, select(User))}
    levels = {s.subject_id: s.level for s in rows(cli_url, select(CreditScore))}
    assert (levels[users["138****0001"]], levels[users["138****0002"]]) == ("A", "C")
    # the README's 信易贷 walkthrough tells the demo enterprise's level and score as they are
    (firm,) = rows(cli_url, select(Enterprise))
    (score,) = rows(cli_url, select(CreditScore).where(CreditScore.subject_id == firm.subject_id))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    told = re.search(r"the demo enterprise is level (\w+) \((\d+)\)", readme)
    assert told is not None and (told[1], int(told[2])) == (score.level, score.score)
    batches = rows(
        cli_url,
        select(RecordBatch).where(RecordBatch.channel != "platform").order_by(col(RecordBatch.created_at)),
    )
    assert [(b.created, b.unchanged, b.rejected) for b in batches] == [(8, 0, 0), (0, 8, 0)]
    assert run(cli_url, "audit", "verify").exit_code == 0


def test_demo_rights_tells_the_objection_and_repair_story(cli_url: str, tmp_path: Path) -> None:
    env = {"XINYI_EVIDENCE_DIR": str(tmp_path / "evidence")}
    assert run(cli_url, "migrate").exit_code == 0
    assert run(cli_url, "demo", "load", "--port", str(free_port())).exit_code == 0
    told = CliRunner().invoke(
        app, ["demo", "rights"], env={"XINYI_DATABASE_URL": cli_url, "XINYI_ENV": "development", **env}
    )
    get_settings.cache_clear()
    assert told.exit_code == 0, told.output
    assert "record is now disputed" in told.stdout
    # (王芳's demo rental default and 李娜's on-time return are platform records counted here too)
    assert "record withdrawn; score 565 (B) -> 580 (B)" in told.stdout
    assert "李娜 before repair: score 538 (C), deposit-free rental: False" in told.stdout
    assert "record repaired; score 538 (C) -> 588 (B); deposit-free rental: True" in told.stdout
    again = CliRunner().invoke(
        app, ["demo", "rights"], env={"XINYI_DATABASE_URL": cli_url, "XINYI_ENV": "development", **env}
    )
    get_settings.cache_clear()
    assert "already answered" in again.stdout and "already decided" in again.stdout
    assert run(cli_url, "audit", "verify").exit_code == 0


def test_stats_prints_the_xinyidai_figures(cli_url: str) -> None:
    run(cli_url, "migrate")
    run(cli_url, "demo", "load", "--port", str(free_port()))
    result = run(cli_url, "stats", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["totals"] == {
        "subjects_rated": 4,  # the three demo residents and the enterprise have records
        "reports_generated": 0,
        "applications": 0,
        "referrals": 0,
        "approvals": 0,
        "declines": 0,
        "approved_amount_fen": 0,
    }
    assert figures["by_bank"] == []
    assert [
        (m["month"], m["subjects_rated"], m["reports_generated"], m["referrals"]) for m in figures["by_month"]
    ] == [(business_date().strftime("%Y-%m"), 4, 0, 0)]
    table = run(cli_url, "stats")
    assert table.exit_code == 0 and "信易贷 totals" in table.stdout


def test_admin_create_grants_a_role_and_audits_it(cli_url: str) -> None:
    run(cli_url, "migrate")
    result = run(cli_url, "admin", "create", "--phone", "13912345678", "--role", "auditor")
    assert result.exit_code == 0, result.output
    assert "139****5678" in result.stdout and "13912345678" not in result.stdout
    (user,) = rows(cli_url, select(User))
    assert user.roles == ["auditor"]
    entries = rows(cli_url, select(AuditEntry).where(AuditEntry.action == "staff.role_granted"))
    assert [(e.actor_id, e.details) for e in entries] == [("cli", {"user_id": user.id, "role": "auditor"})]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--phone", "13912345678", "--role", "superuser"],
            "'superuser' is not one of 'operator', 'auditor'",
        ),
        (["--phone", "139123", "--role", "operator"], "invalid_phone"),
    ],
)
def test_admin_create_refuses_bad_input_and_writes_nothing(
    cli_url: str, args: list[str], message: str
) -> None:
    run(cli_url, "migrate")
    result = run(cli_url, "admin", "create", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert rows(cli_url, select(User)) == []
    assert rows(cli_url, select(AuditEntry)) == []


def test_serve_with_worker_runs_the_jobs_beside_the_server_and_stops_them(cli_url, monkeypatch) -> None:
    import threading

    import uvicorn

    import app.worker

    started = threading.Event()
    seen: dict[str, object] = {}

    def fake_worker_main(tick_seconds: float, stop: threading.Event) -> None:
        seen.update(tick=tick_seconds, stop=stop, thread=threading.current_thread().name)
        started.set()

    def fake_uvicorn_run(target: str, **kwargs: object) -> None:
        assert started.wait(5), "the worker thread did not start"
        seen.update(target=target, workers=kwargs["workers"], access_log=kwargs["access_log"])
        assert not seen["stop"].is_set()  # type: ignore[attr-defined]

    monkeypatch.setattr(app.worker, "main", fake_worker_main)
    monkeypatch.setattr(uvicorn, "run", fake_uvicorn_run)
    result = run(cli_url, "serve", "--with-worker", "--worker-tick", "2")

    assert result.exit_code == 0, result.output
    assert (seen["target"], seen["workers"], seen["tick"], seen["thread"]) == (
        "app.main:create_app",
        1,
        2.0,
        "xinyi-worker",
    )
    assert seen["stop"].is_set()  # type: ignore[attr-defined]
    assert seen["access_log"] is False  # the app logs each request itself (app.core.access)


def test_serve_with_several_workers_shares_their_metrics_through_one_directory(
    cli_url, monkeypatch, tmp_path
) -> None:
    import uvicorn

    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_123.db").write_bytes(b"an earlier run's values")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(workers=k["workers"]))
    result = CliRunner().invoke(
        app,
        ["serve", "--workers", "3"],
        env={"XINYI_DATABASE_URL": cli_url, "XINYI_REDIS_URL": "redis://127.0.0.1:6379/15"},
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert seen == {"workers": 3}
    assert list(shared.iterdir()) == []  # wiped before the workers start


def test_serve_refuses_a_worker_thread_beside_several_processes(cli_url, monkeypatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not serve"))
    result = CliRunner().invoke(
        app,
        ["serve", "--with-worker", "--workers", "2"],
        env={"XINYI_DATABASE_URL": cli_url, "XINYI_REDIS_URL": "redis://127.0.0.1:6379/15"},
    )
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "--with-worker runs in one process" in result.output


def test_xinyi_scores_rebuild_runs_without_the_other_commands(cli_url, monkeypatch, capsys):
    """``xinyi scores rebuild`` skips importing every command (start-up time); it is the same command."""
    import gc
    import sys

    from app import cli

    assert run(cli_url, "migrate").exit_code == 0
    monkeypatch.setenv("XINYI_DATABASE_URL", cli_url)
    monkeypatch.setattr(sys, "argv", ["xinyi", "scores", "rebuild", "--no-progress", "--batch-size", "100"])
    try:
        with pytest.raises(SystemExit) as done:
            cli.main()
        # The process is about to end: its objects are left out of the last garbage collection.
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert done.value.code == 0
    assert re.search(r"rebuild srb_\w+ \(v1\): \d+ subjects scored, \d+ changed", capsys.readouterr().out)

    monkeypatch.setattr(sys, "argv", ["xinyi", "scores", "rebuild", "--batch-size", "5"])
    try:
        with pytest.raises(SystemExit) as refused:
            cli.main()
    finally:
        gc.unfreeze()
    assert refused.value.code == 2 and "--batch-size" in capsys.readouterr().err
    full = run(cli_url, "scores", "rebuild", "--batch-size", "5")
    assert full.exit_code == 2


def test_a_second_demo_load_on_a_port_in_use_changes_nothing_and_says_why(cli_url: str) -> None:
    # given a demo loaded and served on a port
    run(cli_url, "migrate")
    port = free_port()
    first = run(cli_url, "demo", "load", "--port", str(port))
    assert first.exit_code == 0, first.output
    assert f"Serving on http://127.0.0.1:{port} (API docs: http://127.0.0.1:{port}/docs)" in first.stdout
    assert f"curl -X POST http://127.0.0.1:{port}/v1/auth/otp" in first.stdout
    keys = rows(cli_url, select(ApiKey))
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()

        # when `make run` is started again while it serves
        second = run(cli_url, "demo", "load", "--port", str(port))

    # then it stops before touching anything: the running demo's keys still work
    assert second.exit_code == 1
    assert f"error: port {port} on 127.0.0.1 is in use" in second.output
    assert f"make run PORT={port + 1}" in second.output
    assert rows(cli_url, select(ApiKey)) == keys


def test_demo_load_without_the_demo_city_says_so_and_loads_nothing(
    cli_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an installation without the demo package, as the production image is
    run(cli_url, "migrate")
    monkeypatch.setitem(sys.modules, "demo.city", None)

    result = run(cli_url, "demo", "load", "--port", str(free_port()))

    assert result.exit_code == 1
    assert "error: the demo city is not in this installation" in result.output
    assert "Traceback" not in result.output
    assert rows(cli_url, select(Partner)) == []


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"xinyi {version('xinyi')}\n"


def test_admin_create_lists_its_roles() -> None:
    result = CliRunner().invoke(app, ["admin", "create", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "<operator|auditor>" in result.stdout


XINYI = str(Path(sys.executable).with_name("xinyi"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgres://someone@127.0.0.1/xinyi",
            "error: XINYI_DATABASE_URL is not a URL this service can use: write "
            "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME (not postgres://) or sqlite:///PATH",
        ),
        (
            "postgresql+psycopg://someone@127.0.0.1:1/xinyi",
            "error: cannot use the database (XINYI_DATABASE_URL): connection failed: connection to server at "
            '"127.0.0.1", port 1 failed: Connection refused',
        ),
    ],
)
def test_a_database_the_cli_cannot_use_is_one_clear_line(url: str, message: str) -> None:
    done = subprocess.run(  # noqa: S603 (our own command)
        [XINYI, "audit", "verify"],
        env={"XINYI_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == message + "\n"


def test_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 (our own command)
        [XINYI, "admin", "create", "--phone", "13912345678", "--role", "operator"],
        env={"XINYI_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: the database is not migrated (no such table: users): run `xinyi migrate` first\n"
    )
