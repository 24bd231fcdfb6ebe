"""Several API processes (uvicorn --workers N) with PROMETHEUS_MULTIPROC_DIR set: a scrape of any one of
them counts the requests every process answered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from app.core.config import Settings
from tests.helpers import process_env

PROCESS = """
import sys
from fastapi.testclient import TestClient
from app.main import create_app

role, token = sys.argv[1], sys.argv[2]
with TestClient(create_app()) as client:
    if role == "serve":
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
    else:
        print(client.get("/metrics", headers={"Authorization": "Bearer " + token}).text)
"""


def test_a_scrape_of_one_process_counts_the_requests_of_all(
    committed_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    token = "multiprocess-metrics-token-0123"
    environment = {
        # the test database's own keys (the signing keys in it are sealed with them), on the pinned clock
        **process_env(settings),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "XINYI_METRICS_TOKEN": token,
        "XINYI_LOG_LEVEL": "WARNING",
    }

    def run(role: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", PROCESS, role, token],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("serve")
    run("serve")
    text = run("scrape")
    samples = {
        (s.name, s.labels.get("route"), s.labels.get("status")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("xinyi_http_requests_total", "/healthz", "200")] == 6  # 3 + 3, from two other processes
    assert ("xinyi_webhook_outbox_depth", None, None) in samples  # the database's series as well
