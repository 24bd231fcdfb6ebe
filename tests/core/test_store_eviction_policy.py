"""Production refuses a Redis that may evict keys (issue 17, finding 4): claims, rate limits and
idempotency records must not vanish under memory pressure."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import EvictingStoreError, KeyValueStore, RedisStore, refuse_evicting_store
from app.main import create_app
from tests.conftest import EXTERNAL


class RedisReporting:
    """Stands in for a Redis client: reports ``policy`` in INFO memory, and nothing else."""

    def __init__(self, policy: str) -> None:
        self.policy = policy

    def register_script(self, _script: str) -> Any:
        return lambda **_kw: 0

    def info(self, section: str) -> dict[str, str]:
        assert section == "memory"
        return {"maxmemory_policy": self.policy}

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-ttl"]
)
def test_a_policy_that_can_evict_is_refused_at_start_up_in_production(
    settings: Settings, policy: str
) -> None:
    store = RedisStore(RedisReporting(policy))  # type: ignore[arg-type]
    production = settings.model_copy(update={"env": "production"})
    app = create_app(production, store=store)
    with pytest.raises(EvictingStoreError, match=f"maxmemory-policy is '{policy}'"), TestClient(app):
        pass


def test_noeviction_starts(settings: Settings) -> None:
    refuse_evicting_store(RedisStore(RedisReporting("noeviction")))  # type: ignore[arg-type]
    production = settings.model_copy(update={"env": "production"})
    # The event loop's own client is made from the URL but never connects: /healthz needs no store.
    noeviction = RedisStore(RedisReporting("noeviction"), url="redis://127.0.0.1:9/0")  # type: ignore[arg-type]
    with TestClient(create_app(production, store=noeviction, sms_sender=RecordingSender())) as client:
        assert client.get("/healthz").status_code == 200


@pytest.mark.skipif(not EXTERNAL, reason="the embedded store evicts nothing")
def test_the_real_servers_policy_is_read(store: KeyValueStore) -> None:
    assert isinstance(store, RedisStore)
    assert store.eviction_policy() in {
        "noeviction",
        "allkeys-lru",
        "volatile-lru",
        "allkeys-lfu",
        "volatile-lfu",
        "allkeys-random",
        "volatile-random",
        "volatile-ttl",
    }
