"""The partner SDK's rental calls and the reference kiosk on the platform's rentals API (real app)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from xinyi_partner import ConflictError, PartnerClient
from xinyi_partner.kiosk import PlatformRentals, PowerBankKiosk

from app.core.clock import utcnow
from tests.passes import helpers as passes
from tests.rentals import helpers as h


def sdk(client, merchant) -> PartnerClient:
    key = merchant["headers"]["Authorization"].removeprefix("Bearer ")
    return PartnerClient("http://testserver", key, http=client, sleep=lambda _: None)


def test_the_sdk_opens_lists_defaults_and_returns_rentals(client, sms, db, merchant, pinned_clock):
    partner = sdk(client, merchant)
    holder = h.resident(client, sms)
    result = partner.verify(passes.issue(client, holder)["token"], "deposit_free_rental")

    rental = partner.open_rental(
        result.id, item_kind="power_bank", deposit_fen=12000, due_at=utcnow() + timedelta(hours=2)
    )

    assert (rental.credit_amount, rental.fund_amount, rental.hold_status) == (9900, 2100, "held")
    assert rental.deposit_waived and rental.subject == result.subject
    with pytest.raises(ConflictError) as refused:
        partner.open_rental(
            result.id, item_kind="power_bank", deposit_fen=12000, due_at=utcnow() + timedelta(hours=2)
        )
    assert refused.value.code == "verification_already_used"
    page = partner.list_rentals(limit=10).first_page()
    assert ([r.id for r in page.data], page.has_more) == ([rental.id], False)
    assert [r.id for r in partner.list_rentals(status="open")] == [rental.id]

    later = utcnow() + timedelta(hours=3)
    pinned_clock.move_to(later, tick=False)
    reported = partner.report_default(rental.id, description="逾期未还", amount_fen=5000)
    assert reported.status == "default_reported"
    assert reported.dispute_window_ends_at == later + timedelta(days=7)

    returned = partner.return_rental(rental.id)  # it came back after all: the default is withdrawn
    assert (returned.status, returned.hold_status, returned.returned_on_time) == (
        "returned",
        "released",
        False,
    )
    assert partner.return_rental(rental.id).status == "returned"  # safe to repeat
    assert partner.get_rental(rental.id).status == "returned"


def test_the_kiosk_rents_on_the_platform_and_a_return_credits_the_resident(
    client, sms, db, merchant, tmp_path: Path
):
    key = merchant["headers"]["Authorization"].removeprefix("Bearer ")
    kiosk = PowerBankKiosk.create(
        tmp_path / "kiosk", base_url="http://testserver", api_key=key, http=client, platform_rentals=True,
        sleep=lambda _: None,
    )  # fmt: skip
    try:
        assert isinstance(kiosk.rentals, PlatformRentals)
        eligible = h.resident(client, sms)
        outcome = kiosk.handle_token(passes.issue(client, eligible)["token"])

        assert (outcome.action, outcome.via) == ("rent_deposit_free", "online")
        assert outcome.rental_id is not None and outcome.rental_id.startswith("rnt_")
        mine = client.get(f"/v1/me/rentals/{outcome.rental_id}", headers=eligible["headers"]).json()
        assert (mine["credit_amount"], mine["fund_amount"]) == (9900, 0)
        kiosk.return_item(outcome.rental_id)
        mine = client.get(f"/v1/me/rentals/{outcome.rental_id}", headers=eligible["headers"]).json()
        assert mine["status"] == "returned" and mine["record_id"] is not None

        other = h.resident(client, sms)
        h.lower_to_c(client, db, other)
        refused = kiosk.handle_token(passes.issue(client, other)["token"])
        assert (refused.action, refused.code) == ("rent_with_deposit", "level_too_low")
        rental_id = kiosk.open_with_deposit(refused)
        held = client.get(f"/v1/me/rentals/{rental_id}", headers=other["headers"]).json()
        assert (held["fund_amount"], held["hold"]["status"]) == (9900, "held")
        kiosk.return_item(rental_id)
        released = client.get(f"/v1/me/rentals/{rental_id}", headers=other["headers"]).json()
        assert released["hold"]["status"] == "released"
    finally:
        kiosk.close()
