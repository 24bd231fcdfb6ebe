"""The reference power-bank kiosk: online first, offline fallback for its low-value scenario, sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BASE
from partner_testkit import API_KEY, SCENARIO, FakeClock, FakePlatform, eligible, new_handle, problem
from xinyi_partner import AuthenticationError
from xinyi_partner.kiosk import LocalRentals, PowerBankKiosk, run
from xinyi_partner.qr import render_qr_png

REPORTS = "/v1/offline/reports"
VERIFY = "/v1/verifications"


@pytest.fixture
def kiosk(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> Iterator[PowerBankKiosk]:
    kiosk = PowerBankKiosk.create(
        tmp_path / "kiosk",
        base_url=BASE,
        api_key=API_KEY,
        http=platform.client(),
        clock=clock,
        sleep=lambda _: None,
    )
    yield kiosk
    kiosk.close()


def _rentals(kiosk: PowerBankKiosk) -> LocalRentals:
    assert isinstance(kiosk.rentals, LocalRentals)
    return kiosk.rentals


def test_eligible_online_rents_deposit_free(kiosk: PowerBankKiosk, platform: FakePlatform, tmp_path: Path):
    png = render_qr_png(platform.online_pass(), tmp_path / "pass.png")

    outcome = kiosk.scan(png)

    assert (outcome.action, outcome.via, outcome.deposit_fen, outcome.verification_id) == (
        "rent_deposit_free",
        "online",
        0,
        "ver_0001",
    )
    rental = _rentals(kiosk).rentals[outcome.rental_id or ""]
    assert (rental.deposit_waived, rental.deposit_fen, rental.verification_id, rental.open) == (
        True,
        0,
        "ver_0001",
        True,
    )
    kiosk.return_item(rental.id)
    assert rental.open is False
    assert platform.count(VERIFY) == 1
    assert kiosk.queue.pending() == []


def test_not_eligible_rents_with_a_deposit(kiosk: PowerBankKiosk, platform: FakePlatform):
    platform.verification_answers.append(
        (201, eligible(SCENARIO, id="ver_0002", decision="not_eligible", reason="level_below_minimum"), {})
    )
    outcome = kiosk.handle_token(platform.online_pass())
    assert (
        outcome.action,
        outcome.code,
        outcome.deposit_fen,
        outcome.verification_id,
        outcome.rental_id,
    ) == (
        "rent_with_deposit",
        "level_below_minimum",
        9900,
        "ver_0002",
        None,
    )
    assert outcome.message == "Not eligible for a waived deposit. Rent with a 99.00 yuan deposit."
    rental = _rentals(kiosk).rentals[kiosk.open_with_deposit(outcome)]  # the resident agreed to the deposit
    assert (rental.deposit_waived, rental.deposit_fen, rental.verification_id) == (False, 9900, "ver_0002")


def test_expired_pass_asks_for_a_fresh_one(kiosk: PowerBankKiosk, platform: FakePlatform):
    platform.verification_answers.append((422, problem(422, "token_expired", "Token expired"), {}))
    outcome = kiosk.handle_token(platform.online_pass())
    assert (outcome.action, outcome.code, outcome.rental_id) == ("rescan", "token_expired", None)


def test_unreadable_image_asks_to_scan_again(kiosk: PowerBankKiosk):
    outcome = kiosk.scan(b"not an image")
    assert (outcome.action, outcome.via, outcome.code) == ("rescan", "none", "qr_unreadable_image")


def test_misconfigured_kiosk_raises(kiosk: PowerBankKiosk, platform: FakePlatform):
    platform.verification_answers.append(
        (401, problem(401, "unauthenticated", "Authentication required"), {})
    )
    with pytest.raises(AuthenticationError):
        kiosk.handle_token(platform.online_pass())


def test_platform_down_falls_back_to_offline_and_reports_later(
    kiosk: PowerBankKiosk, platform: FakePlatform, clock: FakeClock
):
    kiosk.verifier.refresh()  # the kiosk was online earlier today
    platform.down = True
    handle = new_handle()
    code = platform.offline_code(handle=handle)

    outcome = kiosk.handle_token(code)

    assert (outcome.action, outcome.via, outcome.deposit_fen) == ("rent_deposit_free", "offline", 0)
    assert _rentals(kiosk).rentals[outcome.rental_id or ""].offline_handle == handle
    assert [u.handle for u in kiosk.queue.pending()] == [handle]
    # The same single-use code again on this kiosk: refused, so the deposit is due.
    again = kiosk.handle_token(code)
    assert (again.action, again.via, again.code) == ("rent_with_deposit", "none", "token_replayed")
    # An online-only pass cannot be decided while the platform is down.
    online_only = kiosk.handle_token(platform.online_pass())
    assert (online_only.action, online_only.code) == ("rent_with_deposit", "online_check_required")

    platform.down = False
    clock.advance(600)
    # Back online but not synced yet: the platform does not know the code is used, the kiosk does.
    before_sync = kiosk.handle_token(code)
    assert (before_sync.action, before_sync.code) == ("rent_with_deposit", "token_replayed")
    assert platform.count(VERIFY) == 0
    synced = kiosk.sync()

    assert synced is not None
    assert (synced.reported, synced.batches) == (1, 1)
    (report,) = platform.of(REPORTS)
    assert report.json()["items"][0]["token"] == code
    assert report.json()["items"][0]["scenario"] == SCENARIO
    assert kiosk.queue.pending() == []


def test_offline_fallback_can_be_disabled(platform: FakePlatform, clock: FakeClock, tmp_path: Path):
    kiosk = PowerBankKiosk.create(
        tmp_path / "k",
        base_url=BASE,
        api_key=API_KEY,
        http=platform.client(),
        clock=clock,
        sleep=lambda _: None,
        offline_fallback=False,
        scenario="pay_after_treatment",
    )
    platform.down = True
    outcome = kiosk.handle_token(platform.offline_code("pay_after_treatment"))
    assert (outcome.action, outcome.code) == ("rent_with_deposit", "offline_fallback_disabled")
    kiosk.close()


def test_kiosk_script_against_a_real_http_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import time

    platform = FakePlatform(time.time)
    eligible_png = tmp_path / "eligible.png"
    render_qr_png(platform.online_pass(), eligible_png)
    with platform.serve() as base_url:
        code = run(
            [
                str(eligible_png),
                "--base-url",
                base_url,
                "--api-key",
                API_KEY,
                "--state-dir",
                str(tmp_path / "s"),
            ]
        )
        offline_png = tmp_path / "offline.png"
        render_qr_png(platform.offline_code(), offline_png)
        offline_code = run(
            [str(offline_png), "--offline", "--base-url", base_url, "--state-dir", str(tmp_path / "s")]
        )
        sync_code = run(
            ["--sync", "--base-url", base_url, "--api-key", API_KEY, "--state-dir", str(tmp_path / "s")]
        )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert (code, offline_code, sync_code) == (0, 0, 0)
    assert [(line.get("action"), line.get("via")) for line in lines[:2]] == [
        ("rent_deposit_free", "online"),
        ("rent_deposit_free", "offline"),
    ]
    assert lines[2] == {"sync": {"reported": 1}}
    assert (platform.count(VERIFY), platform.count(REPORTS)) == (1, 1)
    # the online rental was opened on the platform's rentals API; the offline one stays on the device
    assert lines[0]["rental_id"] == "rnt_0001" and lines[1]["rental_id"].startswith("local_")
    opened = json.loads(platform.of("/v1/rentals")[0].body)
    assert (opened["verification_id"], opened["deposit_fen"]) == ("ver_0001", 9900)
