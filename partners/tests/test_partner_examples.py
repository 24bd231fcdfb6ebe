"""The README's examples for each partner kind, run as they are against the platform served for real
(``xinyi serve`` with the demo's partners, see live_platform.py), and what each prints checked exactly.
Then the async client and webhook deliveries against the same server."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from live_platform import LivePlatform
from partner_testkit import run_async
from xinyi_partner import AsyncPartnerClient, PermissionDeniedError, WebhookMessage, WebhookVerifier

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
ZHANG_WEI, WANG_FANG = "13800000001", "13800000003"  # the demo's resident and enterprise admin
ENTERPRISE = "乌鲁木齐天山小微科技有限公司"


def example(name: str) -> str:
    found = re.search(rf"<!-- example: {name} -->\n```python\n(.*?)\n```", README, re.DOTALL)
    assert found, f"partners/README.md has no example {name!r}"
    return found.group(1)


def run_example(
    name: str,
    live: LivePlatform,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    **env: str,
) -> list[str]:
    """Run the README's example at the server's instant; the lines it printed."""
    monkeypatch.setenv("XINYI_BASE_URL", live.url)
    monkeypatch.setenv("XINYI_API_KEY", api_key)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    capsys.readouterr()
    with time_machine.travel(live.now(), tick=True):
        exec(compile(example(name), f"partners/README.md: {name}", "exec"), {"__name__": "__example__"})  # noqa: S102
    return capsys.readouterr().out.splitlines()


def apply_for_a_loan(live: LivePlatform, bank_id: str, amount_fen: int) -> dict[str, Any]:
    """王芳's enterprise applies, with consent for ``bank_id`` only (30 days)."""
    enterprise = live.resident("GET", "/v1/me/enterprises", WANG_FANG)["data"][0]
    expires = (live.now() + timedelta(days=30)).isoformat()
    application: dict[str, Any] = live.resident(
        "POST",
        f"/v1/enterprises/{enterprise['id']}/loan-applications",
        WANG_FANG,
        json={
            "amount_fen": amount_fen,
            "term_months": 12,
            "purpose": "采购原材料",
            "industry": "I",
            "consent": {"agreed": True, "banks": [bank_id], "expires_at": expires},
        },
    )
    assert application["status"] == "referred", application
    return application


def test_the_bank_example_decides_its_referrals_and_reports_a_repayment(
    live: LivePlatform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    bank = live.partner("bank", "示范")
    application = apply_for_a_loan(live, bank.id, 50_000_000)

    printed = run_example("bank", live, bank.api_key, monkeypatch, capsys)

    assert printed[0] == f"{ENTERPRISE} approved 50000000"
    assert re.fullmatch(r"ref_\w+ on_time True", printed[1]), printed
    assert len(printed) == 2, printed
    # The enterprise sees the decision and the repayment on its application.
    seen = live.resident(
        "GET",
        f"/v1/enterprises/{application['enterprise_id']}/loan-applications/{application['id']}",
        WANG_FANG,
    )
    (referral,) = seen["referrals"]
    assert (referral["status"], referral["decision"]["approved_amount_fen"]) == ("approved", 50_000_000)
    assert [o["kind"] for o in referral["outcomes"]] == ["on_time"]


def test_the_data_provider_example_sends_records_and_a_file_and_reads_objections(
    live: LivePlatform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
):
    department = live.partner("data_provider")
    record = next(
        r
        for r in live.resident("GET", "/v1/me/records", WANG_FANG)["data"]
        if r["source_record_id"] == "demo-penalty-2"
    )
    live.resident(
        "POST",
        "/v1/me/objections",
        WANG_FANG,
        json={"record_id": record["id"], "reason": "这家店铺不是我经营的，记录有误。"},
    )
    (tmp_path / "records.csv").write_text(
        "source_record_id,category,uscc,severity,decision_date,title\n"
        "amr-0201,administrative_license,91650100MA77R2E5XL,,2026-10-12,卫生许可\n"
        "amr-0202,administrative_penalty,91650100MA77R2E5XA,general,2026-10-13,超范围经营\n"
        "amr-0203,administrative_penalty,91650100MA77R2E5XL,general,2026-10-14,未按期年报\n"
        "amr-0204,administrative_license,91650100MA77R2E5XL,,2031-01-01,营业执照变更\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)

    printed = run_example("data provider", live, department.api_key, monkeypatch, capsys)

    assert printed == [
        "1 landed; [(2, 'severity', 'severity_required')]",
        "2 landed; [(2, 'uscc', 'invalid_uscc_check_digit'), (4, 'decision_date', 'date_in_future')]",
        "demo-penalty-2 这家店铺不是我经营的，记录有误。 2026-12-16",
    ]


def test_the_merchant_example_verifies_rents_and_manages_a_scanner(
    live: LivePlatform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    shop = live.partner("merchant")
    token = live.resident("POST", "/v1/me/passes", ZHANG_WEI)["token"]

    printed = run_example("merchant", live, shop.api_key, monkeypatch, capsys, SCANNED_TOKEN=token)

    assert printed == [
        "eligible level_met",
        "waived 9900 held 0",
        "[True]",
        "returned",
        "awaiting_enrolment True",
        "revoked",
        "409 token_replayed",
    ]


def test_the_async_client_reads_the_same_and_refuses_another_kinds_calls(live: LivePlatform):
    department, bank = live.partner("data_provider"), live.partner("bank", "农村")

    async def run() -> tuple[list[str], str, str]:
        async with AsyncPartnerClient(live.url, api_key=bank.api_key) as banker:
            products = [p.name async for p in banker.list_loan_products(limit=1)]
            me = await banker.me()
        async with AsyncPartnerClient(live.url, api_key=department.api_key) as provider:
            with pytest.raises(PermissionDeniedError) as refused:
                await provider.list_referrals().first_page()
        return products, me.kind, refused.value.code

    with time_machine.travel(live.now(), tick=True):
        products, kind, code = run_async(run())

    assert (products, kind) == (["天山农村商业银行·小微信用贷"], "bank")
    assert code == "scope_required"


class Receiver:
    """A bank's webhook receiver on loopback: verifies each delivery with the SDK, answers 200."""

    def __init__(self, live: LivePlatform) -> None:
        self.live = live
        self.verifier: WebhookVerifier | None = None
        self.messages: list[WebhookMessage] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                assert receiver.verifier is not None
                receiver.messages.append(receiver.verifier.verify(body, dict(self.headers.items())))
                receiver.arrived.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xinyi"

    @staticmethod
    def serving(live: LivePlatform) -> Iterator[Receiver]:
        receiver = Receiver(live)
        thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield receiver
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()


@pytest.fixture
def receiver(live: LivePlatform) -> Iterator[Receiver]:
    yield from Receiver.serving(live)


def test_a_referral_webhook_from_the_platform_passes_the_sdks_verification(
    live: LivePlatform, receiver: Receiver
):
    bank = live.partner("bank", "农村")
    from xinyi_partner import PartnerClient

    with PartnerClient(live.url, api_key=bank.api_key) as client:
        endpoint = client.create_webhook_endpoint(receiver.url, event_types=["referral.created"])
        receiver.verifier = WebhookVerifier(endpoint.secret, clock=lambda: live.now().timestamp())
        application = apply_for_a_loan(live, bank.id, 20_000_000)

        assert receiver.arrived.wait(30), "no delivery within 30 s"
        (message,) = receiver.messages
        (referral,) = [
            r for r in client.list_referrals(status="referred") if r.application_id == application["id"]
        ]
        deliveries = list(client.list_webhook_deliveries(endpoint_id=endpoint.id))

    assert message.payload["type"] == "referral.created"
    assert json.dumps(message.payload, ensure_ascii=False).count(referral.id) >= 1
    assert [(d.event_id, d.event_type) for d in deliveries] == [(message.id, "referral.created")]
