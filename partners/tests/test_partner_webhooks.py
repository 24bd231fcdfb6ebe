"""Standard Webhooks signatures: valid, rotated secrets, stale or future timestamps, tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from partner_testkit import FakeClock
from xinyi_partner import WebhookVerificationError, WebhookVerifier, verify_webhook
from xinyi_partner.webhooks import sign

OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 24).decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
BODY = b'{"type":"referral.created","data":{"referral_id":"ref_1","amount_fen":50000000}}'
MSG_ID = "msg_2Qv8Yb"


def _headers(timestamp: int, *signatures: str, msg_id: str = MSG_ID) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def test_signature_is_the_standard_webhooks_hmac():
    expected = hmac.new(b"o" * 24, f"{MSG_ID}.1800000000.".encode() + BODY, hashlib.sha256).digest()
    assert sign(OLD_SECRET, MSG_ID, 1_800_000_000, BODY) == "v1," + base64.b64encode(expected).decode()


def test_valid_delivery(clock: FakeClock):
    now = int(clock())
    message = WebhookVerifier(OLD_SECRET, clock=clock).verify(
        BODY, _headers(now, sign(OLD_SECRET, MSG_ID, now, BODY))
    )
    assert (message.id, message.timestamp, message.body) == (MSG_ID, now, BODY)
    assert message.payload == {
        "type": "referral.created",
        "data": {"referral_id": "ref_1", "amount_fen": 50000000},
    }


def test_header_names_are_case_insensitive(clock: FakeClock):
    now = int(clock())
    headers = {
        "Webhook-Id": MSG_ID,
        "Webhook-Timestamp": str(now),
        "Webhook-Signature": sign(OLD_SECRET, MSG_ID, now, BODY),
    }
    assert verify_webhook(OLD_SECRET, BODY, headers, clock=clock).id == MSG_ID


def test_two_signatures_during_the_platforms_secret_rotation(clock: FakeClock):
    now = int(clock())
    headers = _headers(now, sign(OLD_SECRET, MSG_ID, now, BODY), sign(NEW_SECRET, MSG_ID, now, BODY))
    assert WebhookVerifier(OLD_SECRET, clock=clock).verify(BODY, headers).id == MSG_ID
    assert WebhookVerifier(NEW_SECRET, clock=clock).verify(BODY, headers).id == MSG_ID
    # A receiver configured with both secrets accepts a delivery signed by either.
    both = WebhookVerifier([OLD_SECRET, NEW_SECRET], clock=clock)
    assert both.verify(BODY, _headers(now, sign(NEW_SECRET, MSG_ID, now, BODY))).id == MSG_ID
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError) as caught:
        WebhookVerifier(other, clock=clock).verify(BODY, headers)
    assert caught.value.code == "webhook_invalid_signature"


def test_unknown_versions_and_garbage_entries_are_skipped(clock: FakeClock):
    now = int(clock())
    headers = _headers(now, "v1a,c29tZXRoaW5n", "v1,@@@", "nonsense", sign(OLD_SECRET, MSG_ID, now, BODY))
    assert verify_webhook(OLD_SECRET, BODY, headers, clock=clock).id == MSG_ID


@pytest.mark.parametrize(
    ("offset", "code"),
    [(-301, "webhook_timestamp_too_old"), (301, "webhook_timestamp_too_new")],
)
def test_timestamps_outside_five_minutes_are_refused(clock: FakeClock, offset: int, code: str):
    timestamp = int(clock()) + offset
    headers = _headers(timestamp, sign(OLD_SECRET, MSG_ID, timestamp, BODY))
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(OLD_SECRET, BODY, headers, clock=clock)
    assert caught.value.code == code


@pytest.mark.parametrize("offset", [-300, 300])
def test_timestamps_at_the_edge_are_accepted(clock: FakeClock, offset: int):
    timestamp = int(clock()) + offset
    headers = _headers(timestamp, sign(OLD_SECRET, MSG_ID, timestamp, BODY))
    assert verify_webhook(OLD_SECRET, BODY, headers, clock=clock).timestamp == timestamp


def test_tampering_is_detected(clock: FakeClock):
    now = int(clock())
    signature = sign(OLD_SECRET, MSG_ID, now, BODY)
    verifier = WebhookVerifier(OLD_SECRET, clock=clock)
    cases = {
        "body": (BODY.replace(b"50000000", b"90000000"), _headers(now, signature)),
        "id": (BODY, _headers(now, signature, msg_id="msg_other")),
        "timestamp": (BODY, _headers(now - 1, signature)),
    }
    for body, headers in cases.values():
        with pytest.raises(WebhookVerificationError) as caught:
            verifier.verify(body, headers)
        assert caught.value.code == "webhook_invalid_signature"


def test_missing_headers_and_bad_timestamp(clock: FakeClock):
    verifier = WebhookVerifier(OLD_SECRET, clock=clock)
    with pytest.raises(WebhookVerificationError) as caught:
        verifier.verify(BODY, {"webhook-id": MSG_ID})
    assert caught.value.code == "webhook_missing_header"
    with pytest.raises(WebhookVerificationError) as caught:
        verifier.verify(BODY, _headers(0, "v1,x") | {"webhook-timestamp": "soon"})
    assert caught.value.code == "webhook_invalid_timestamp"


def test_secret_must_be_whsec_base64():
    with pytest.raises(ValueError, match="base64"):
        WebhookVerifier("whsec_not base64!")
    with pytest.raises(ValueError, match="16 bytes"):
        WebhookVerifier("whsec_" + base64.b64encode(b"short").decode())


def test_what_the_reference_library_signs_is_accepted_and_the_other_way_round(clock: FakeClock):
    """The platform signs with ``standardwebhooks``; a receiver using that library instead of this SDK
    accepts what ``sign`` makes."""
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    now = int(clock())
    reference = Webhook(NEW_SECRET).sign(MSG_ID, datetime.fromtimestamp(now, UTC), BODY)
    message = WebhookVerifier([OLD_SECRET, NEW_SECRET], clock=clock).verify(BODY, _headers(now, reference))
    assert message.payload["data"]["referral_id"] == "ref_1"

    # The library reads the system clock: it is moved to the test's instant.
    import time_machine
    from standardwebhooks.webhooks import WebhookVerificationError as ReferenceError

    ours = _headers(now, sign(NEW_SECRET, MSG_ID, now, BODY))
    forged = _headers(now, sign(OLD_SECRET, MSG_ID, now, BODY))
    with time_machine.travel(datetime.fromtimestamp(now, UTC), tick=False):
        assert Webhook(NEW_SECRET).verify(BODY, ours) == message.payload
        with pytest.raises(ReferenceError, match="No matching signature"):
            Webhook(NEW_SECRET).verify(BODY, forged)
