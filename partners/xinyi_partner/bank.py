"""Reference integration: a bank's 信易贷 referral receiver.

What it does with each webhook delivery (``POST /``, Standard Webhooks headers):

1. verify the signature against its secret(s) — several during a rotation — and refuse a delivery older
   (or newer) than 5 minutes: ``400`` with the check's code, nothing applied;
2. dedupe by ``webhook-id``: an id already applied answers ``200 {"status": "duplicate"}`` and applies
   nothing (the platform retries, and operators replay, with the same id); an id being applied right now
   by another thread answers ``409`` so the platform tries again later;
3. for ``referral.created``: fetch the referral and its credit report, decide with its policy, and post the
   decision (with an idempotency key derived from the referral, so a retried post is not a second decision);
   a consent withdrawn or expired before the fetch ends the referral there (nothing is decided);
4. record the id as applied, durably, before answering ``200``. If the platform cannot be reached the claim
   is released and the answer is ``503``: the delivery is retried.

The seen-ids table lives in SQLite (``state_dir/bank-receiver.sqlite3``), so a restart does not forget.

Run it: ``python -m xinyi_partner.bank --base-url URL --port 8081 --state-dir DIR`` with ``XINYI_API_KEY``
and ``XINYI_WEBHOOK_SECRET`` (comma-separated while you rotate).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xinyi_partner._http import HttpClient, json_body
from xinyi_partner.errors import APIConnectionError, APIError, WebhookVerificationError
from xinyi_partner.online import PartnerClient
from xinyi_partner.webhooks import DEFAULT_TOLERANCE, WebhookVerifier

LEVELS = ("D", "C", "B", "A", "AA", "AAA")
# One line per delivery and per call to the platform: ids, event types, statuses, decisions. Never the
# secret, the signature or the report's content.
log = logging.getLogger("xinyi_partner.bank")


@dataclass(frozen=True)
class CreditPolicy:
    """The reference bank's rule: approve from ``min_level`` up to ``max_amount_fen`` at ``rate_bps``;
    decline ``credit_history`` below it."""

    min_level: str = "A"
    max_amount_fen: int = 100_000_000
    rate_bps: int = 385

    def decide(self, referral: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
        level = report["content"]["score"]["level"]
        blocked = report["content"]["score"]["blocked"]
        if blocked or LEVELS.index(level) < LEVELS.index(self.min_level):
            return {"decision": "declined", "reason": "credit_history"}
        return {
            "decision": "approved",
            "amount_fen": min(referral["amount_fen"], self.max_amount_fen),
            "annual_rate_bps": self.rate_bps,
            "term_months": referral["term_months"],
        }


class SeenStore:
    """Which webhook ids were applied (durable) and which are being applied (in memory, this process)."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS applied (webhook_id TEXT PRIMARY KEY, event_type TEXT, "
                "outcome TEXT, applied_at REAL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def claim(self, webhook_id: str) -> str:
        """``new`` (now yours to apply), ``applied`` or ``in_flight``."""
        with self._lock:
            if webhook_id in self._in_flight:
                return "in_flight"
            with self._connect() as db:
                if db.execute("SELECT 1 FROM applied WHERE webhook_id = ?", (webhook_id,)).fetchone():
                    return "applied"
            self._in_flight.add(webhook_id)
            return "new"

    def release(self, webhook_id: str) -> None:
        with self._lock:
            self._in_flight.discard(webhook_id)

    def applied(self, webhook_id: str, event_type: str, outcome: str) -> None:
        with self._lock:
            with self._connect() as db:
                db.execute(
                    "INSERT OR IGNORE INTO applied VALUES (?, ?, ?, ?)",
                    (webhook_id, event_type, outcome, time.time()),
                )
            self._in_flight.discard(webhook_id)

    def all_applied(self) -> list[tuple[str, str, str]]:
        with self._connect() as db:
            return [tuple(row) for row in db.execute("SELECT webhook_id, event_type, outcome FROM applied")]


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


class BankReceiver:
    def __init__(
        self,
        client: PartnerClient,
        secrets: str | Sequence[str],
        state_dir: str | Path,
        *,
        policy: CreditPolicy | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.verifier = WebhookVerifier(secrets, tolerance=tolerance, clock=clock)
        self.policy = policy or CreditPolicy()
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        self.seen = SeenStore(Path(state_dir) / "bank-receiver.sqlite3")
        # Decisions this process posted, in order (what the tests count).
        self.decisions: list[tuple[str, dict[str, Any]]] = []

    def handle(self, body: bytes, headers: dict[str, str]) -> Answer:
        answer, event_type = self._handle(body, headers)
        webhook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id", "-")
        result = answer.body.get("outcome") or answer.body.get("status") or answer.body.get("error")
        log.info("delivery %s %s: %s %s", webhook_id, event_type or "-", answer.status, result)
        return answer

    def _handle(self, body: bytes, headers: dict[str, str]) -> tuple[Answer, str]:
        try:
            message = self.verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            return Answer(400, {"error": exc.code}), ""
        event_type = str((message.payload or {}).get("type", ""))
        state = self.seen.claim(message.id)
        if state == "applied":
            return Answer(200, {"status": "duplicate"}), event_type
        if state == "in_flight":
            return Answer(409, {"error": "in_flight"}), event_type
        try:
            outcome = self._apply(event_type, (message.payload or {}).get("data") or {})
        except (APIConnectionError, APIError) as exc:
            self.seen.release(message.id)
            log.warning("platform call failed: %s", exc)
            return Answer(503, {"error": getattr(exc, "code", "unavailable")}), event_type
        except Exception:
            self.seen.release(message.id)
            raise
        self.seen.applied(message.id, event_type, outcome)
        return Answer(200, {"status": "applied", "outcome": outcome}), event_type

    def _apply(self, event_type: str, data: dict[str, Any]) -> str:
        if event_type != "referral.created":
            return "ignored"
        referral_id = data["referral_id"]
        referral = json_body(self.client.request("GET", f"/v1/partner/referrals/{referral_id}"))
        if referral["status"] != "referred":
            return f"already_{referral['status']}"
        try:
            report = json_body(self.client.request("GET", f"/v1/partner/referrals/{referral_id}/report"))
        except APIError as exc:
            if exc.code in {"consent_withdrawn", "consent_expired"}:
                return exc.code
            raise
        decision = self.policy.decide(referral, report)
        log.info("referral %s: report fetched, %s", referral_id, decision["decision"])
        self.client.request(
            "POST",
            f"/v1/partner/referrals/{referral_id}/decision",
            json=decision,
            idempotency_key=f"decision-{referral_id}",
        )
        self.decisions.append((referral_id, decision))
        return str(decision["decision"])


@contextmanager
def serve(receiver: BankReceiver, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the receiver as an HTTP server in a thread; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = receiver.handle(body, dict(self.headers.items()))
            content = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting; it will send again and be answered as a duplicate

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: Sequence[str] | None = None, http: HttpClient | None = None) -> None:
    parser = argparse.ArgumentParser(description="信易贷 reference bank receiver")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--min-level", default="A", choices=LEVELS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    secrets = [s for s in os.environ.get("XINYI_WEBHOOK_SECRET", "").split(",") if s]
    with PartnerClient(args.base_url, api_key=os.environ["XINYI_API_KEY"], http=http) as client:
        receiver = BankReceiver(
            client, secrets, args.state_dir, policy=CreditPolicy(min_level=args.min_level)
        )
        with serve(receiver, args.host, args.port) as url:
            print(f"bank receiver listening on {url}", flush=True)
            with suppress(KeyboardInterrupt):
                threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
