"""A local HTTP stand-in for the subset of the Stripe API the platform uses, for tests.

The real ``stripe`` SDK talks to it through its base-URL setting (``base_addresses={"api": …}``), over
real HTTP, form-encoded like Stripe; nothing in the SDK is patched. It keeps Stripe's rules that matter
here: secret-key auth, idempotency keys (same key + same parameters replays the first answer, other
parameters is an ``idempotency_error``), manual capture, off-session confirmation, refunds, listing by
creation time, and signed webhook events (``Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")``),
queued for the test to deliver.

Test payment methods behave like Stripe's: ``pm_card_visa`` works, ``pm_card_chargeDeclined`` is
declined (``card_declined``), ``pm_card_authenticationRequired`` needs 3-D Secure, so an off-session
payment fails with ``authentication_required``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CARDS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_chargeDeclined": ("visa", "0002", "card_declined"),
    "pm_card_authenticationRequired": ("visa", "3184", "authentication_required"),
}


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``metadata[a]=1&created[gte]=2&payment_method_types[0]=card`` → nested dicts (lists as dicts)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class StripeError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


def _invalid(message: str, code: str = "parameter_invalid", status: int = 400) -> StripeError:
    return StripeError(status, {"error": {"type": "invalid_request_error", "code": code, "message": message}})


@dataclass
class Delivery:
    event_id: str
    payload: str
    signature: str


@dataclass
class StripeStandIn:
    secret_key: str = "sk_test_standin"
    webhook_secret: str = "whsec_standin"
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    setups: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Delivery] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, idem key
    _idempotency: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, payload, headers = standin.handle(method, self.path, dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- webhooks -------------------------------------------------------------------------------------

    def sign(self, payload: str, timestamp: int | None = None, secret: str | None = None) -> str:
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{t}.{payload}".encode(), hashlib.sha256)
        return f"t={t},v1={mac.hexdigest()}"

    def emit(self, event_type: str, obj: dict[str, Any]) -> Delivery:
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2025-10-29.clover",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        payload = json.dumps(event)
        delivery = Delivery(event["id"], payload, self.sign(payload))
        self.outbox.append(delivery)
        return delivery

    def take_events(self) -> list[Delivery]:
        with self._lock:
            taken, self.outbox = self.outbox, []
        return taken

    # --- what a browser with Stripe.js would do ------------------------------------------------------

    def confirm_setup(self, setup_id: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        with self._lock:
            setup = self.setups[setup_id]
            setup.update(status="succeeded", payment_method=payment_method)
            self.emit("setup_intent.succeeded", setup)
            return setup

    # --- the API --------------------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        lower = {k.lower(): v for k, v in headers.items()}
        split = urlsplit(raw_path)
        params = _nest(parse_qsl(body if method == "POST" else split.query, keep_blank_values=True))
        key = lower.get("idempotency-key")
        with self._lock:
            self.requests.append((method, split.path, key))
            if lower.get("authorization") != f"Bearer {self.secret_key}":
                return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, {}
            fingerprint = hashlib.sha256(f"{method} {split.path}\n{body}".encode()).hexdigest()
            if method == "POST" and key is not None and key in self._idempotency:
                seen, status, answer = self._idempotency[key]
                if seen != fingerprint:
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent "
                                "requests can only be used with the same parameters.",
                            }
                        },
                        {},
                    )
                return status, json.loads(answer), {"Idempotent-Replayed": "true"}
            try:
                status, answer = 200, self._route(method, split.path, params)
            except StripeError as exc:
                status, answer = exc.status, exc.body
            if method == "POST" and key is not None and status < 500:
                self._idempotency[key] = (fingerprint, status, json.dumps(answer))
            return status, answer, {}

    def _route(self, method: str, path: str, p: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        match method, parts:
            case "POST", ["customers"]:
                cid = "cus_" + secrets.token_hex(7)
                self.customers[cid] = {"id": cid, "object": "customer", "metadata": p.get("metadata", {})}
                return self.customers[cid]
            case "POST", ["setup_intents"]:
                self._customer(p.get("customer"))
                sid = "seti_" + secrets.token_hex(10)
                self.setups[sid] = {
                    "id": sid,
                    "object": "setup_intent",
                    "status": "requires_payment_method",
                    "client_secret": f"{sid}_secret_{secrets.token_hex(8)}",
                    "customer": p["customer"],
                    "payment_method": None,
                    "usage": p.get("usage", "off_session"),
                }
                return self.setups[sid]
            case "GET", ["setup_intents", sid]:
                return self._get(self.setups, sid)
            case "GET", ["payment_methods", pm]:
                if pm not in CARDS:
                    raise _invalid("No such PaymentMethod", "resource_missing", 404)
                brand, last4, _ = CARDS[pm]
                return {
                    "id": pm,
                    "object": "payment_method",
                    "type": "card",
                    "card": {"brand": brand, "last4": last4},
                }
            case "POST", ["payment_intents"]:
                return self._create_intent(p)
            case "GET", ["payment_intents"]:
                return self._list(p)
            case "GET", ["payment_intents", pid]:
                return self._get(self.intents, pid)
            case "POST", ["payment_intents", pid, "cancel"]:
                intent = self._get(self.intents, pid)
                if intent["status"] in {"succeeded", "canceled"}:
                    raise _invalid(
                        f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                        "payment_intent_unexpected_state",
                    )
                intent.update(status="canceled", amount_capturable=0)
                self.emit("payment_intent.canceled", intent)
                return intent
            case "POST", ["payment_intents", pid, "capture"]:
                intent = self._get(self.intents, pid)
                if intent["status"] != "requires_capture":
                    raise _invalid(
                        "This PaymentIntent could not be captured.", "payment_intent_unexpected_state"
                    )
                amount = int(p.get("amount_to_capture", intent["amount_capturable"]))
                if not 0 < amount <= intent["amount_capturable"]:
                    raise _invalid("amount_to_capture is too large.", "amount_too_large")
                intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
                self.emit("payment_intent.succeeded", intent)
                return intent
            case "POST", ["refunds"]:
                return self._refund(p)
        raise _invalid(f"Unrecognized request URL ({method}: {path}).", "resource_missing", 404)

    def _get(self, table: dict[str, dict[str, Any]], object_id: str) -> dict[str, Any]:
        if object_id not in table:
            raise _invalid(f"No such object: '{object_id}'", "resource_missing", 404)
        return table[object_id]

    def _customer(self, customer_id: Any) -> dict[str, Any]:
        if not isinstance(customer_id, str) or customer_id not in self.customers:
            raise _invalid(f"No such customer: '{customer_id}'", "resource_missing")
        return self.customers[customer_id]

    def _create_intent(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = int(p["amount"])
        except (KeyError, ValueError):
            raise _invalid("Missing required param: amount.", "parameter_missing") from None
        if amount < 1:
            raise _invalid("Amount must be at least 1.", "amount_too_small")
        self._customer(p.get("customer"))
        pm = p.get("payment_method")
        if pm not in CARDS:
            raise _invalid(f"No such PaymentMethod: '{pm}'", "resource_missing")
        manual = p.get("capture_method") == "manual"
        pid = "pi_" + secrets.token_hex(12)
        intent: dict[str, Any] = {
            "id": pid,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "manual" if manual else "automatic",
            "currency": p.get("currency", "cny"),
            "customer": p["customer"],
            "payment_method": pm,
            "metadata": p.get("metadata", {}),
            "status": "requires_confirmation",
            "created": int(time.time()),
            "last_payment_error": None,
        }
        self.intents[pid] = intent
        if p.get("confirm") != "true":
            return intent
        failure = CARDS[pm][2]
        if failure == "authentication_required" and p.get("off_session") != "true":
            intent["status"] = "requires_action"
            return intent
        if failure is not None:
            error = {
                "type": "card_error",
                "code": failure,
                "message": "Your card was declined."
                if failure == "card_declined"
                else "This payment requires authentication.",
                "payment_method": {"id": pm},
            }
            if failure == "card_declined":
                error["decline_code"] = "generic_decline"
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.emit("payment_intent.payment_failed", intent)
            raise StripeError(402, {"error": {**error, "payment_intent": intent}})
        if manual:
            intent.update(status="requires_capture", amount_capturable=amount)
            self.emit("payment_intent.amount_capturable_updated", intent)
        else:
            intent.update(status="succeeded", amount_received=amount)
            self.emit("payment_intent.succeeded", intent)
        return intent

    def _list(self, p: dict[str, Any]) -> dict[str, Any]:
        gte = int((p.get("created") or {}).get("gte", 0))
        limit = int(p.get("limit", 10))
        rows = sorted(
            (i for i in self.intents.values() if i["created"] >= gte), key=lambda i: i["id"], reverse=True
        )
        if "starting_after" in p:
            ids = [i["id"] for i in rows]
            rows = rows[ids.index(p["starting_after"]) + 1 :] if p["starting_after"] in ids else []
        return {
            "object": "list",
            "url": "/v1/payment_intents",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
        }

    def _refund(self, p: dict[str, Any]) -> dict[str, Any]:
        intent = self._get(self.intents, str(p.get("payment_intent")))
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        amount = int(p.get("amount", intent["amount_received"] - refunded))
        if intent["status"] != "succeeded" or amount > intent["amount_received"] - refunded:
            raise _invalid("Refund amount is greater than unrefunded amount on charge.", "amount_too_large")
        rid = "re_" + secrets.token_hex(10)
        self.refunds[rid] = {"id": rid, "object": "refund", "amount": amount, "status": "succeeded",
                             "payment_intent": intent["id"]}  # fmt: skip
        self.emit(
            "charge.refunded",
            {
                "id": "ch_" + intent["id"][3:],
                "object": "charge",
                "payment_intent": intent["id"],
                "amount": intent["amount_received"],
                "amount_refunded": refunded + amount,
            },
        )
        return self.refunds[rid]
