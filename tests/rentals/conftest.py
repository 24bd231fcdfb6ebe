"""Fixtures for rentals and payments: the app with the embedded provider (the default ``client``), and
the app on the real Stripe SDK pointed at the local stand-in (``stripe``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.main import create_app
from tests.conftest import in_the_test_session
from tests.passes import helpers as passes
from tests.rentals import helpers
from tests.rentals.stripe_standin import StripeStandIn


def bind_after_commit_sessions(app: Any, db: Session) -> None:
    """Work "after the commit" (webhook processing) runs in the test's own transaction."""

    @contextmanager
    def factory() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.state.payments_session_factory = factory


@pytest.fixture
def client(app, db: Session) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        bind_after_commit_sessions(app, db)
        yield test_client


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    server = StripeStandIn()
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def stripe_settings(settings: Settings, standin: StripeStandIn) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(standin.secret_key),
            "stripe_webhook_secret": SecretStr(standin.webhook_secret),
            "stripe_api_base": standin.base_url,  # type: ignore[attr-defined]
            "stripe_max_network_retries": 0,
        }
    )


@pytest.fixture
def stripe_app(stripe_settings: Settings, store: KeyValueStore, sms: RecordingSender, db: Session):  # type: ignore[no-untyped-def]
    return in_the_test_session(create_app(stripe_settings, store=store, sms_sender=sms), db)


@pytest.fixture
def stripe(stripe_app, db: Session) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(stripe_app, raise_server_exceptions=False) as test_client:
        bind_after_commit_sessions(stripe_app, db)
        yield test_client


@pytest.fixture
def merchant(db: Session) -> dict[str, Any]:
    return passes.partner(db, "merchant")


@pytest.fixture
def clock(pinned_clock: time_machine.TimeMachineFixture) -> helpers.Clock:
    return helpers.Clock(pinned_clock)
