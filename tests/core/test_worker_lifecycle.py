"""The worker's own behaviour in production: it logs work done, not idle looks; it records each run (the
lag on /metrics); and on SIGTERM it finishes the batch in hand, says so, and exits cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from app.core.clock import utcnow
from app.core.logging import configure_logging
from app.jobs import service as jobs_service
from app.worker import Job, Worker, did_work
from tests.core.test_logging import capture_json_logs


def test_idle_looks_are_not_logged_and_work_done_is(committed_engine: Engine, settings) -> None:
    configure_logging(settings)
    idle, busy = f"test.idle_{uuid.uuid4().hex[:6]}", f"test.busy_{uuid.uuid4().hex[:6]}"
    worker = Worker(
        committed_engine,
        jobs=[
            Job(idle, timedelta(seconds=1), lambda _e, _n: (0, 0)),
            Job(busy, timedelta(seconds=1), lambda _e, _n: 3),
        ],
    )
    logs = capture_json_logs()
    now = utcnow()
    assert worker.run_once(now) == [idle, busy]
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert [(x["event"], x["job"], x["result"]) for x in lines if x["logger"] == "app.worker"] == [
        ("job done", busy, "3")
    ]
    lags = jobs_service.lags(committed_engine, now + timedelta(seconds=4))
    assert (lags[idle], lags[busy]) == (3.0, 3.0)  # both ran (and were recorded), due again 3 s ago


def test_what_counts_as_work() -> None:
    from app.records.tasks import ExpirySummary
    from app.webhooks.delivery import DeliverySummary

    assert not did_work(None) and not did_work(0) and not did_work((0, 0)) and not did_work([])
    assert not did_work(ExpirySummary()) and not did_work(DeliverySummary())
    assert did_work(ExpirySummary(records=2)) and did_work((0, 1)) and did_work(["pi_1"])


CHILD = """
import sys, time
from datetime import timedelta
from pathlib import Path
from app.worker import Job, main

name, gate = sys.argv[1], Path(sys.argv[2])

def slow(_engine, _now):
    print("batch started", flush=True)
    deadline = time.monotonic() + 30
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return 1

main(tick_seconds=0.05, jobs=[Job(name, timedelta(hours=1), slow)])
"""


def test_sigterm_lets_the_batch_finish_then_the_worker_exits(
    committed_engine: Engine, database_url: str, tmp_path: Path
) -> None:
    name, gate = f"test.slow_{uuid.uuid4().hex[:6]}", tmp_path / "go"
    environment = {
        **os.environ,
        "XINYI_ENV": "development",
        "XINYI_DATABASE_URL": database_url,
        "XINYI_LOG_JSON": "true",
    }
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CHILD, name, str(gate)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in child.stdout], daemon=True).start()  # type: ignore[union-attr]
        assert lines.get(timeout=60).strip() == "batch started"
        child.send_signal(signal.SIGTERM)
        gate.touch()  # the batch in hand completes after the signal
        _, errors = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, errors
    events = [json.loads(x) for x in errors.splitlines() if x.startswith("{")]
    worker_events = [
        (x["event"], x.get("signal") or x.get("job")) for x in events if x["logger"] == "app.worker"
    ]
    assert worker_events == [
        ("worker started", None),
        ("worker stopping", "SIGTERM"),
        ("job done", name),
        ("worker stopped", None),
    ]
    assert name in jobs_service.lags(committed_engine, utcnow())


def test_a_worker_run_in_this_process_gives_the_signal_handlers_back(monkeypatch, database_url: str) -> None:
    from app.core.config import get_settings
    from app.worker import main

    monkeypatch.setenv("XINYI_DATABASE_URL", database_url)
    monkeypatch.setenv("XINYI_LOG_JSON", "true")
    get_settings.cache_clear()
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stopped = threading.Event()
    stopped.set()  # stops before its first look
    try:
        assert main(tick_seconds=0.01, stop=stopped, jobs=[]) == []
        assert main(once=True, jobs=[]) == []
    finally:
        get_settings.cache_clear()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
