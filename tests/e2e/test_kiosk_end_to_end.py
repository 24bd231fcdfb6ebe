"""End to end: a resident's QR, scanned by the reference power-bank kiosk (the partner SDK), online and
offline, against the whole service over HTTP (``TestClient``), with real commits.

The app runs on the committed database (no per-test rollback), as in ``tests/passes/test_live.py``: the
resident's event stream reads with sessions of its own and must see what the verifications committed. Every
test makes its own resident and partners, so runs do not disturb each other.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from xinyi_partner.kiosk import PowerBankKiosk

from app.core.clock import business_date
from app.core.sms import RecordingSender
from app.verifications.models import Verification
from tests.passes import helpers
from tests.passes.test_live import WAIT, listen, next_line

BASE_URL = "http://testserver"


class Network:
    """The kiosk's way to the platform: the test client, with a switch that cuts the line."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.down = False

    def request(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        if self.down:
            raise httpx.ConnectError("no signal at the kiosk")
        return self.client.request(method, url, content=content, headers=headers)


def committed_partner(engine: Engine, kind: str, scopes: list[str] | None = None) -> dict[str, Any]:
    with Session(engine, expire_on_commit=False) as session:
        made = helpers.partner(session, kind, scopes, name=f"{kind} {uuid.uuid4().hex[:6]}")
    made["key"] = made["headers"]["Authorization"].removeprefix("Bearer ")
    return made


def give_good_records(client: TestClient, engine: Engine, holder: dict[str, Any]) -> None:
    """A department pushes two positive records for the resident (an honour and volunteer service), the
    way the demo data arrives: the records batch API, which rescores the subject before it answers."""
    provider = committed_partner(engine, "data_provider", ["records:write"])
    decided = (business_date() - timedelta(days=30)).isoformat()
    rows = [
        {
            "source_record_id": f"hon-{uuid.uuid4().hex[:12]}",
            "category": category,
            "id_number": holder["id_number"],
            "decision_date": decided,
        }
        for category in ("honour", "volunteer_service")
    ]
    response = client.post(
        "/v1/records/batches",
        json={"records": rows},
        headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2, response.text


def kiosk_for(state: Path, network: Network, partner: dict[str, Any]) -> PowerBankKiosk:
    return PowerBankKiosk.create(
        state, base_url=BASE_URL, api_key=partner["key"], http=network, sleep=lambda _: None
    )


def png_of(client: TestClient, holder: dict[str, Any], issued: dict[str, Any]) -> bytes:
    response = client.get(issued["qr"]["png_url"], headers=holder["headers"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return response.content


def test_a_residents_qr_is_verified_by_the_kiosk_online_and_offline_and_seen_live(
    live: TestClient, committed_engine: Engine, sms: RecordingSender, tmp_path: Path
) -> None:
    # given a resident who signed in, bound an ID and has good records: eligible for deposit-free rental
    holder = helpers.resident(live, sms)
    give_good_records(live, committed_engine, holder)
    score = live.get("/v1/me/score", headers=holder["headers"]).json()
    assert score["level"] in {"AAA", "AA", "A", "B"}, score
    # and two power-bank kiosks of two merchants, on one network they share with the platform
    network = Network(live)
    first_merchant = committed_partner(committed_engine, "merchant")
    second_merchant = committed_partner(committed_engine, "merchant")
    kiosk = kiosk_for(tmp_path / "kiosk-1", network, first_merchant)
    other_kiosk = kiosk_for(tmp_path / "kiosk-2", network, second_merchant)
    # and the resident watching their scans live
    lines: queue.Queue[str] = queue.Queue()
    watcher = threading.Thread(target=listen, args=(live, holder["headers"], lines, 3), daemon=True)
    watcher.start()
    assert next_line(lines, "status", WAIT).startswith("status 200 text/event-stream")
    next_line(lines, ": connected", WAIT)

    try:
        # --- online -------------------------------------------------------------------------------------
        # when the resident shows a fresh pass and the kiosk scans the PNG the app displays
        issued = helpers.issue(live, holder)
        outcome = kiosk.scan(png_of(live, holder, issued))

        # then the platform says eligible and the power bank goes out with the deposit waived
        assert (outcome.action, outcome.via, outcome.deposit_fen) == ("rent_deposit_free", "online", 0)
        assert outcome.online is not None and outcome.online.eligible
        assert outcome.online.subject is not None and outcome.online.subject.startswith("psn_")
        assert "score" not in outcome.online.raw and "level" not in outcome.online.raw
        rental = kiosk.rentals.rentals[outcome.rental_id]  # type: ignore[attr-defined]
        assert (rental.deposit_waived, rental.verification_id) == (True, outcome.verification_id)
        kiosk.return_item(rental.id)
        # and the resident sees the scan on the stream within a second
        event = json.loads(next_line(lines, "data:", WAIT).removeprefix("data:"))
        assert (event["id"], event["mode"], event["partner"]["id"], event["decision"]) == (
            outcome.verification_id,
            "online",
            first_merchant["id"],
            "eligible",
        )
        # and the same pass shown again is refused as a replay
        again = kiosk.scan(png_of(live, holder, issued))
        assert (again.action, again.code) == ("rent_with_deposit", "token_replayed")

        # --- offline ------------------------------------------------------------------------------------
        # given offline codes (a low-value scenario) on the phone, and kiosks that fetched the key set and
        # the deny list while they had signal
        codes = live.post(
            "/v1/me/passes/offline",
            json={"scenario": "deposit_free_rental", "count": 2},
            headers=holder["headers"],
        )
        assert codes.status_code == 201, codes.text
        code = codes.json()["data"][0]
        code_png = png_of(live, holder, code)
        kiosk.verifier.refresh()
        other_kiosk.verifier.refresh()

        # when the signal is gone and the resident shows the code at both kiosks
        network.down = True
        offline = kiosk.scan(code_png)
        twice_here = kiosk.scan(code_png)
        elsewhere = other_kiosk.scan(code_png)

        # then each kiosk decides with the SDK alone: deposit waived, the use queued
        assert (offline.action, offline.via, offline.deposit_fen) == ("rent_deposit_free", "offline", 0)
        assert offline.offline is not None and offline.offline.handle is not None
        assert kiosk.queue.pending_count() == 1
        # the same kiosk refuses the single-use code a second time, on its own
        assert (twice_here.action, twice_here.code) == ("rent_with_deposit", "token_replayed")
        # the other kiosk cannot know yet: it accepts the code too
        assert (elsewhere.action, elsewhere.via) == ("rent_deposit_free", "offline")

        # when the signal is back and the kiosks sync
        network.down = False
        first_sync = kiosk.sync()
        second_sync = other_kiosk.sync()

        # then the first use is reconciled (recorded, with the pseudonym the online check gave this merchant)
        assert first_sync is not None and second_sync is not None
        ((use, item),) = first_sync.items
        assert (use.handle, item.status, item.code) == (offline.offline.handle, "recorded", None)
        assert item.subject == outcome.online.subject
        stored = kiosk.queue.get(use.handle)
        assert stored is not None and stored.report_status == "recorded"
        # and the use at the second kiosk is flagged: the code was used twice
        ((_, flagged),) = second_sync.items
        assert flagged.status == "flagged"
        assert [u for u, _ in second_sync.flagged] and not second_sync.rejected
        # and a later online verification of the code is a replay: it was claimed when reconciled
        replay = helpers.verify(live, first_merchant, code["token"])
        assert (replay.status_code, replay.json()["code"]) == (409, "token_replayed")
        # and nothing is reported twice
        assert kiosk.sync() is not None and kiosk.queue.pending_count() == 0

        # and the resident sees both offline uses live, then all three scans in the list
        offline_events = [json.loads(next_line(lines, "data:", WAIT).removeprefix("data:")) for _ in range(2)]
        # (the stream shows each row as it stands when read: the first use may already carry the flag that the
        # second kiosk's report put on it, or not yet; the second use is flagged from the start)
        by_partner = {e["partner"]["id"]: e for e in offline_events}
        assert sorted(by_partner) == sorted([first_merchant["id"], second_merchant["id"]])
        assert {e["mode"] for e in offline_events} == {"offline"}
        assert by_partner[second_merchant["id"]]["flagged"] is True
        scans = live.get("/v1/me/verifications", headers=holder["headers"]).json()["data"]
        assert [(s["mode"], s["partner"]["id"], s["flagged"]) for s in scans] == [
            ("offline", second_merchant["id"], True),
            ("offline", first_merchant["id"], True),
            ("online", first_merchant["id"], False),
        ]
        assert all(s["decision"] == "eligible" for s in scans)
        with Session(committed_engine) as session:
            rows = session.exec(select(Verification).where(Verification.pass_id == code["id"])).all()
        assert sorted((r.partner_id, r.mode, r.flagged) for r in rows) == sorted(
            [(first_merchant["id"], "offline", True), (second_merchant["id"], "offline", True)]
        )
    finally:
        kiosk.close()
        other_kiosk.close()
    watcher.join(timeout=5)
