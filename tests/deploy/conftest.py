"""A database of its own for tests of operator commands that act on whole tables (re-sealing, backup):
a fresh SQLite file on the embedded leg, a fresh PostgreSQL database on the external leg, migrated, and
named to the CLI through XINYI_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import get_settings
from app.core.migrate import upgrade
from tests.conftest import EXTERNAL
from tests.deploy.pg import fresh_database


@pytest.fixture
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if EXTERNAL:
        with fresh_database("own") as url:
            yield _migrated(url, monkeypatch)
    else:
        yield _migrated(f"sqlite:///{tmp_path / 'own.db'}", monkeypatch)
    get_settings.cache_clear()


def _migrated(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    upgrade(url=url)
    monkeypatch.setenv("XINYI_DATABASE_URL", url)
    get_settings.cache_clear()
    return url
