"""A verification does not read an API key it already checked (PostgreSQL: app.partners.keycache), yet a
revocation or a suspension, committed anywhere, refuses the very next call — and the pass that call
carried is not used up. Run on both legs: the behaviour is the same where nothing is kept (SQLite).

With real commits (a live app on the committed database), as the revocation would come from another
request or process."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.core.sms import RecordingSender
from app.partners import service as partners_service
from app.verifications.models import Verification
from tests.passes import helpers
from tests.passes.helpers import SETUP, issue, verify


@dataclass
class Merchant:
    id: str
    key_ids: list[str]
    keys: list[dict[str, dict[str, str]]]  # per key: {"headers": …}, as tests.passes.helpers.verify takes


def merchant_with_two_keys(engine: Engine) -> Merchant:
    with Session(engine, expire_on_commit=False) as session:
        partner = partners_service.create_partner(
            session, SETUP, f"测试商户 {uuid.uuid4().hex[:6]}", "merchant"
        )
        issued = [partners_service.create_api_key(session, SETUP, partner.id, f"till {n}") for n in (1, 2)]
        session.commit()
    return Merchant(
        id=partner.id,
        key_ids=[key.api_key.id for key in issued],
        keys=[{"headers": {"Authorization": f"Bearer {key.secret}"}} for key in issued],
    )


def verifications_of(engine: Engine, pass_id: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Verification).where(Verification.pass_id == pass_id)).all()
        return [(row.partner_id, row.decision) for row in rows]


def test_a_key_revoked_after_it_was_used_is_refused_at_its_next_call_and_the_pass_stays_usable(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    # given a merchant whose first key has verified a pass (so a process may keep it)
    holder = helpers.resident(live, sms)
    merchant = merchant_with_two_keys(committed_engine)
    first = issue(live, holder)
    assert verify(live, merchant.keys[0], first["token"]).status_code == 201

    # when that key is revoked, outside this app's requests
    with Session(committed_engine) as session:
        partners_service.revoke_api_key(session, SETUP, merchant.key_ids[0], merchant.id)
        session.commit()

    # then its next call is refused, and nothing was recorded for it
    second = issue(live, holder)
    refused = verify(live, merchant.keys[0], second["token"])
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key_revoked")
    assert verifications_of(committed_engine, second["id"]) == []
    # and the pass it carried was not used up: the merchant's other key verifies it
    accepted = verify(live, merchant.keys[1], second["token"])
    assert (accepted.status_code, accepted.json()["decision"]) == (201, "eligible")
    assert verifications_of(committed_engine, second["id"]) == [(merchant.id, "eligible")]


def test_a_partner_suspended_after_its_key_was_used_is_refused_until_reactivated(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    holder = helpers.resident(live, sms)
    merchant = merchant_with_two_keys(committed_engine)
    assert verify(live, merchant.keys[0], issue(live, holder)["token"]).status_code == 201

    with Session(committed_engine) as session:
        partners_service.suspend_partner(session, SETUP, merchant.id)
        session.commit()

    carried = issue(live, holder)
    refused = verify(live, merchant.keys[0], carried["token"])
    assert (refused.status_code, refused.json()["code"]) == (403, "partner_suspended")
    assert verifications_of(committed_engine, carried["id"]) == []

    with Session(committed_engine) as session:
        partners_service.reactivate_partner(session, SETUP, merchant.id)
        session.commit()

    # the same pass, with the same key, now goes through
    accepted = verify(live, merchant.keys[0], carried["token"])
    assert (accepted.status_code, accepted.json()["decision"]) == (201, "eligible")


def test_an_unknown_key_is_refused_before_any_pass_is_touched(
    live: TestClient, committed_engine: Engine, sms: RecordingSender
) -> None:
    holder = helpers.resident(live, sms)
    merchant = merchant_with_two_keys(committed_engine)
    carried = issue(live, holder)
    forged = {
        "headers": {"Authorization": "Bearer " + merchant.keys[0]["headers"]["Authorization"][7:-4] + "AAAA"}
    }

    refused = verify(live, forged, carried["token"])

    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_api_key")
    accepted = verify(live, merchant.keys[0], carried["token"])
    assert (accepted.status_code, accepted.json()["decision"]) == (201, "eligible")
