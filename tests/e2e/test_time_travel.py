"""A rental default played through its 7-day dispute window in seconds, with the public CLI and API only.

What an operator does on a staging box (README, "Moving time outside production"): the service runs at a
set instant (``XINYI_CLOCK_AT``), is restarted a few hours on to report the default, and ``xinyi worker
--once --as-of`` plays the end of the window, the negative record and the collection. Every process here is
a real ``xinyi`` process on its own SQLite file, in development mode (the sign-in code is in the log).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from app.core.clock import utcnow
from tests.helpers import make_phone
from tests.passes.helpers import unique_id_number

XINYI = str(Path(sys.executable).with_name("xinyi"))


def _env(tmp_path: Path, at: datetime) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYI_")}
    env.update(
        XINYI_ENV="development",
        XINYI_DATABASE_URL=f"sqlite:///{tmp_path / 'staging.db'}",
        XINYI_EVIDENCE_DIR=str(tmp_path / "evidence"),
        XINYI_CLOCK_AT=at.isoformat(),
        XINYI_LOG_JSON="false",
    )
    return env


def xinyi(tmp_path: Path, at: datetime, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own venv's xinyi, fixed arguments)
        [XINYI, *args], env=_env(tmp_path, at), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def service(tmp_path: Path, at: datetime) -> Iterator[tuple[httpx.Client, Path]]:
    """``xinyi serve`` running from ``at``; yields a client on it and its log file."""
    port, log = _free_port(), tmp_path / f"serve-{at:%Y%m%d%H%M}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [XINYI, "serve", "--port", str(port)],
            env=_env(tmp_path, at),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "xinyi serve did not start: " + log.read_text()
                time.sleep(0.1)
            yield client, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def sign_in(client: httpx.Client, log: Path, phone: str) -> dict[str, str]:
    sent = client.post("/v1/auth/otp", json={"phone": phone})
    assert sent.status_code == 202
    deadline = time.monotonic() + 10
    while not (codes := re.findall(r"sign-in code is (\d{6})", log.read_text())):
        assert time.monotonic() < deadline, "no development SMS in the log"
        time.sleep(0.05)
    answer = {"phone": phone, "code": codes[-1], "challenge": sent.json()["challenge"]}
    pair = client.post("/v1/auth/token", json=answer).json()
    return {"Authorization": f"Bearer {pair['access_token']}"}


def test_a_default_is_taken_through_its_dispute_window_to_a_record_and_a_collection_without_waiting(
    tmp_path: Path,
) -> None:
    start = utcnow().replace(microsecond=0)
    xinyi(tmp_path, start, "migrate")
    partner_id = xinyi(
        tmp_path, start, "partners", "create", "--name", "天山共享充电宝", "--kind", "merchant"
    ).split()[0]
    secret = re.search(r"secret:\s+(\S+)", xinyi(tmp_path, start, "partners", "key-create", partner_id))
    assert secret is not None
    kiosk = {"Authorization": f"Bearer {secret[1]}"}

    # day 0: a resident rents a power bank deposit-free, due back in an hour
    phone = make_phone()
    with service(tmp_path, start) as (api, log):
        resident = sign_in(api, log, phone)
        bound = api.put(
            "/v1/me/identity", json={"name": "陈静", "id_number": unique_id_number()}, headers=resident
        )
        assert bound.status_code == 200, bound.text
        assert api.post("/v1/me/payment-method/setup", headers=resident).status_code == 201
        token = api.post("/v1/me/passes", headers=resident).json()["token"]
        verified = api.post(
            "/v1/verifications",
            json={"token": token, "scenario": "deposit_free_rental"},
            headers={**kiosk, "Idempotency-Key": "scan-1"},
        ).json()
        assert verified["decision"] == "eligible", verified
        rental = api.post(
            "/v1/rentals",
            json={
                "verification_id": verified["id"],
                "item": {"kind": "power_bank", "reference": "PB-0042"},
                "deposit_fen": 9900,
                "due_at": (start + timedelta(hours=1)).isoformat(),
            },
            headers={**kiosk, "Idempotency-Key": "rent-1"},
        ).json()
        assert (rental["credit_amount"], rental["fund_amount"]) == (9900, 0), rental

    # two hours on, not returned: the kiosk reports the default; the window runs for 7 days
    with service(tmp_path, start + timedelta(hours=2)) as (api, _):
        reported = api.post(
            f"/v1/rentals/{rental['id']}/default",
            json={"evidence": {"description": "逾期未归还", "photo_urls": []}},
            headers=kiosk,
        )
        assert reported.status_code == 200, reported.text
        window_ends = datetime.fromisoformat(reported.json()["default"]["dispute_window_ends_at"])
        # (the service's clock runs on from the instant it was started at: seconds, not days)
        assert timedelta(0) <= window_ends - (start + timedelta(hours=2, days=7)) < timedelta(minutes=1)

    # the worker a minute after the window: a negative record, and the collection taken from the card
    as_of = (window_ends + timedelta(minutes=1)).replace(microsecond=0)
    ran = xinyi(tmp_path, start, "worker", "--once", "--as-of", as_of.isoformat())
    when, names = ran.removeprefix("ran at ").strip().split(": ", 1)
    assert timedelta(0) <= datetime.fromisoformat(when) - as_of < timedelta(minutes=1)
    assert {"rentals.end_dispute_windows", "rentals.settle_defaults"} <= set(names.split(", "))

    # the resident, eight days on, sees both
    with service(tmp_path, start + timedelta(days=8)) as (api, log):
        resident = sign_in(api, log, phone)
        mine = api.get(f"/v1/me/rentals/{rental['id']}", headers=resident).json()
        assert mine["status"] == "defaulted"
        assert mine["collection"] == {"status": "succeeded", "amount_fen": 9900, "taken_fen": 9900}
        records = api.get("/v1/me/records", headers=resident).json()["data"]
        assert [r["id"] for r in records if r["id"] == mine["record_id"]] == [mine["record_id"]]
