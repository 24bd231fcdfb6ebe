from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
