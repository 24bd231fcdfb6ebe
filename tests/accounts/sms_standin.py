"""A local HTTP stand-in for Tencent Cloud SMS (API 3.0, ``SendSms`` of version 2021-01-11), for tests.

The real SDK (``tencentcloud-sdk-python-sms``) talks to it over real HTTP once its endpoint is pointed
here; nothing in the SDK is patched. Like the provider, it checks the request's TC3-HMAC-SHA256
signature (the canonical request over ``content-type;host`` and the body's SHA-256, the credential scope
``date/sms/tc3_request``, the key derived from the secret key and the date) and the timestamp, then the
application, signature name and template, and answers in the provider's shapes: an ``Error`` for the
whole request, or a ``SendStatusSet`` with a ``Code`` per number.

``messages`` holds what was delivered; ``refuse`` makes the provider refuse a number with a given code.
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
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@dataclass
class Message:
    phone: str  # E.164, as sent: +8613800000000
    template_id: str
    params: list[str]
    sign_name: str


@dataclass
class TencentSmsStandIn:
    secret_id: str = "AKIDstandin" + secrets.token_hex(8)
    secret_key: str = secrets.token_urlsafe(24)
    sdk_app_id: str = "1400000001"
    sign_name: str = "信易加"
    # Approved templates: id -> number of parameters.
    templates: dict[str, int] = field(default_factory=lambda: {"1000001": 2})
    messages: list[Message] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # E.164 number -> provider error code
    outage: str | None = None  # a whole-request error code (e.g. InternalError) while set
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = standin.handle(self.path, headers, body)
                data = json.dumps({"Response": answer}, ensure_ascii=False).encode()
                self.send_response(200)  # the provider answers errors with 200 and an Error object
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def codes_sent_to(self, phone: str) -> list[str]:
        """The first parameter of every message to this 11-digit number: the sign-in code."""
        with self._lock:
            return [m.params[0] for m in self.messages if m.phone == "+86" + phone]

    # --- the provider's checks, in its order --------------------------------------------------------

    def _signature_problem(self, path: str, headers: dict[str, str], body: bytes) -> str | None:
        match = _AUTH.match(headers.get("authorization", ""))
        if match is None:
            return "AuthFailure.SignatureFailure"
        if match["id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        signed = match["signed"].split(";")
        if match["date"] != date or match["service"] != "sms" or not {"content-type", "host"} <= set(signed):
            return "AuthFailure.SignatureFailure"
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
        canonical_request = "\n".join(
            ["POST", path, "", canonical_headers, match["signed"], hashlib.sha256(body).hexdigest()]
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = "\n".join(
            ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
        )
        key = _hmac(_hmac(_hmac(("TC3" + self.secret_key).encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, match["signature"]) else "AuthFailure.SignatureFailure"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        request_id = secrets.token_hex(16)
        with self._lock:
            self.requests += 1

        def error(code: str, message: str = "refused by the stand-in") -> dict[str, Any]:
            return {"Error": {"Code": code, "Message": message}, "RequestId": request_id}

        problem = self._signature_problem(path, headers, body)
        if problem:
            return error(problem)
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction")
        if not headers.get("x-tc-region"):
            return error("MissingParameter", "X-TC-Region")
        if self.outage:
            return error(self.outage)
        params = json.loads(body)
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return error("UnauthorizedOperation.SmsSdkAppIdVerifyFail")
        statuses = []
        for phone in params.get("PhoneNumberSet", []):
            code = self._per_number(phone, params)
            if code == "Ok":
                with self._lock:
                    self.messages.append(
                        Message(
                            phone, params["TemplateId"], list(params["TemplateParamSet"]), params["SignName"]
                        )
                    )
            statuses.append(
                {
                    "SerialNo": secrets.token_hex(8) if code == "Ok" else "",
                    "PhoneNumber": phone,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": "",
                    "Code": code,
                    "Message": "send success" if code == "Ok" else "refused by the stand-in",
                    "IsoCode": "CN",
                }
            )
        return {"SendStatusSet": statuses, "RequestId": request_id}

    def _per_number(self, phone: str, params: dict[str, Any]) -> str:
        if params.get("SignName") != self.sign_name:
            return "FailedOperation.SignatureIncorrectOrUnapproved"
        expected_params = self.templates.get(params.get("TemplateId", ""))
        if expected_params is None:
            return "FailedOperation.TemplateIncorrectOrUnapproved"
        if len(params.get("TemplateParamSet", [])) != expected_params:
            return "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
        if not re.fullmatch(r"\+861[3-9]\d{9}", phone):
            return "InvalidParameterValue.IncorrectPhoneNumber"
        return self.refuse.get(phone, "Ok")
