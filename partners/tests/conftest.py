from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import live_platform
import pytest
from live_platform import LivePlatform
from partner_testkit import FakeClock, FakePlatform
from xinyi_partner import OfflineQueue, OfflineVerifier

BASE = "https://xinyi.test"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def platform(clock: FakeClock) -> FakePlatform:
    return FakePlatform(clock)


@pytest.fixture
def verifier(platform: FakePlatform, clock: FakeClock) -> Iterator[OfflineVerifier]:
    with OfflineVerifier(BASE, http=platform.client(), clock=clock) as v:
        yield v


@pytest.fixture
def queue(tmp_path: Path, clock: FakeClock) -> Iterator[OfflineQueue]:
    with OfflineQueue(tmp_path / "uses.sqlite3", clock=clock) as q:
        yield q


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[LivePlatform]:
    """The platform served for real (see live_platform.py), once per test run (per xdist worker)."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    server, platform = live_platform.start(tmp_path_factory.mktemp("live"), worker)
    yield platform
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
