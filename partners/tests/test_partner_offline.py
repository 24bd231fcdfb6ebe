"""Offline verification: signature, times, hostile tokens, key set refetch and rotation, deny list."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from conftest import BASE
from partner_testkit import SCENARIO, FakeClock, FakePlatform, Signer, new_handle, unsigned_token
from xinyi_partner import (
    AlgorithmNotAllowed,
    DenyListInvalid,
    InvalidSignature,
    KeysUnavailable,
    MalformedToken,
    OfflineQueue,
    OfflineVerifier,
    TokenExpired,
    TokenNotYetValid,
    UnknownKey,
)
from xinyi_partner.keys import jwk_thumbprint

JWKS = "/.well-known/jwks.json"
DENY = "/v1/offline/deny-list"


def test_valid_offline_code_is_accepted(platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock):
    handle = new_handle()
    token = platform.offline_code(handle=handle)

    result = verifier.verify(token, SCENARIO)

    assert result.decision == "accepted"
    assert result.accepted is True
    assert result.code is None
    assert result.handle == handle
    assert result.kid == platform.signer.kid
    assert result.expires_at == int(clock()) + 24 * 3600
    assert result.deny_list_version == 1
    assert result.deny_list_stale is False
    assert (platform.count(JWKS), platform.count(DENY)) == (1, 1)


def test_online_only_pass_needs_the_online_check(platform: FakePlatform, verifier: OfflineVerifier):
    handle = new_handle()
    result = verifier.verify(platform.online_pass(handle=handle), SCENARIO)

    assert result.decision == "online_required"
    assert result.code == "online_check_required"
    assert result.handle == handle  # the signature checked out; only the decision needs the platform


def test_offline_code_for_another_scenario_is_refused(platform: FakePlatform, verifier: OfflineVerifier):
    result = verifier.verify(platform.offline_code("library"), SCENARIO)
    assert (result.decision, result.code) == ("refused", "token_scenario_mismatch")


def test_time_window_with_60_second_leeway(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    now = int(clock())
    expiring = platform.signer.sign({"h": new_handle(), "sc": SCENARIO, "nbf": now - 100, "exp": now - 60})
    expired = platform.signer.sign({"h": new_handle(), "sc": SCENARIO, "nbf": now - 100, "exp": now - 61})
    early_ok = platform.signer.sign({"h": new_handle(), "sc": SCENARIO, "nbf": now + 60, "exp": now + 600})
    too_early = platform.signer.sign({"h": new_handle(), "sc": SCENARIO, "nbf": now + 61, "exp": now + 600})

    assert verifier.verify(expiring, SCENARIO).decision == "accepted"
    assert verifier.verify(early_ok, SCENARIO).decision == "accepted"
    assert (verifier.verify(expired, SCENARIO).decision, verifier.verify(expired, SCENARIO).code) == (
        "refused",
        "token_expired",
    )
    assert verifier.verify(too_early, SCENARIO).code == "token_not_yet_valid"
    with pytest.raises(TokenExpired):
        verifier.check(expired, SCENARIO)
    with pytest.raises(TokenNotYetValid):
        verifier.check(too_early, SCENARIO)


def test_leeway_above_60_seconds_is_refused():
    with pytest.raises(ValueError, match="leeway"):
        OfflineVerifier(BASE, leeway=61)


def test_offline_code_valid_for_more_than_24_hours_is_refused(
    platform: FakePlatform, verifier: OfflineVerifier
):
    now = int(FakeClock()())
    token = platform.signer.sign({"h": new_handle(), "sc": SCENARIO, "nbf": now, "exp": now + 2 * 24 * 3600})
    assert verifier.verify(token, SCENARIO).code == "token_malformed"


def _tamper_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def test_hostile_tokens_each_get_their_own_code(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    now = int(clock())
    claims = {"h": new_handle(), "sc": SCENARIO, "nbf": now - 5, "exp": now + 3600}
    good = platform.signer.sign(claims)
    head, _, signature = good.split(".")
    other_payload = unsigned_token({}, {**claims, "sc": "xinyidai"}).split(".")[1]
    hostile = {
        "tampered_signature": _tamper_signature(good),
        "tampered_payload": f"{head}.{other_payload}.{signature}",
        "alg_none": unsigned_token({"alg": "none", "kid": platform.signer.kid}, claims),
        "hs256_with_public_key": jwt.encode(
            claims, platform.signer.raw_public, algorithm="HS256", headers={"kid": platform.signer.kid}
        ),
        "unknown_kid": Signer().sign(claims),
        "expired": platform.signer.sign({**claims, "nbf": now - 7200, "exp": now - 3600}),
        "not_yet_valid": platform.signer.sign({**claims, "nbf": now + 3600, "exp": now + 7200}),
        "garbage": "not-a-token",
        "no_kid": unsigned_token({"alg": "EdDSA"}, claims, "c2ln"),
    }

    codes = {name: verifier.verify(token, SCENARIO).code for name, token in hostile.items()}

    assert codes == {
        "tampered_signature": "token_invalid_signature",
        "tampered_payload": "token_invalid_signature",
        "alg_none": "token_algorithm_not_allowed",
        "hs256_with_public_key": "token_algorithm_not_allowed",
        "unknown_kid": "token_unknown_key",
        "expired": "token_expired",
        "not_yet_valid": "token_not_yet_valid",
        "garbage": "token_malformed",
        "no_kid": "token_malformed",
    }
    assert all(verifier.verify(t, SCENARIO).decision == "refused" for t in hostile.values())
    assert verifier.verify(good, SCENARIO).decision == "accepted"
    # The raising API names the same failures with exception types.
    for name, exc_type in [
        ("tampered_signature", InvalidSignature),
        ("alg_none", AlgorithmNotAllowed),
        ("hs256_with_public_key", AlgorithmNotAllowed),
        ("unknown_kid", UnknownKey),
        ("garbage", MalformedToken),
    ]:
        with pytest.raises(exc_type):
            verifier.check(hostile[name], SCENARIO)


def test_unknown_kid_refetches_once_then_waits_for_the_cooldown(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    assert verifier.verify(platform.offline_code(), SCENARIO).accepted
    assert platform.count(JWKS) == 1
    clock.advance(60)  # at most one fetch per 60 s, the first one included
    forged = Signer().sign(
        {"h": new_handle(), "sc": SCENARIO, "nbf": int(clock()), "exp": int(clock()) + 600}
    )

    assert verifier.verify(forged, SCENARIO).code == "token_unknown_key"
    assert platform.count(JWKS) == 2  # one refetch
    for _ in range(5):
        assert verifier.verify(forged, SCENARIO).code == "token_unknown_key"
    clock.advance(59)
    assert verifier.verify(forged, SCENARIO).code == "token_unknown_key"
    assert platform.count(JWKS) == 2  # still within the 60 s cooldown: no fetch

    clock.advance(1)
    assert verifier.verify(forged, SCENARIO).code == "token_unknown_key"
    assert platform.count(JWKS) == 3
    # Known kids never cause a fetch.
    assert verifier.verify(platform.offline_code(), SCENARIO).accepted
    assert platform.count(JWKS) == 3


def test_verifies_offline_across_a_key_rotation(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    old_key = platform.signer
    old_token = platform.offline_code()
    assert verifier.verify(old_token, SCENARIO).accepted
    assert verifier.keys.kids == {old_key.kid}

    # The platform publishes the next key before signing with it; the verifier's cache does not know it yet.
    new_key = platform.rotate()
    clock.advance(120)
    platform.active = new_key
    new_token = platform.offline_code()

    assert verifier.verify(new_token, SCENARIO).accepted  # unknown kid -> one refetch -> found
    assert platform.count(JWKS) == 2
    assert verifier.keys.kids == {old_key.kid, new_key.kid}
    # The old key is still published: codes it signed earlier still verify, without another fetch.
    assert verifier.verify(old_token, SCENARIO).accepted
    assert platform.count(JWKS) == 2
    # The deny list is now signed with the new key and still verifies.
    clock.advance(3601)
    assert verifier.verify(platform.offline_code(), SCENARIO).accepted
    assert verifier.deny_list.current is not None

    # Once the old key is withdrawn (after the longest token lifetime) its codes stop verifying.
    platform.published.remove(old_key)
    clock.advance(3600)  # past the key set's hourly refresh
    assert verifier.verify(old_token, SCENARIO).code == "token_unknown_key"
    assert verifier.keys.kids == {new_key.kid}


def test_jwks_key_whose_kid_is_not_its_thumbprint_is_ignored(platform: FakePlatform, clock: FakeClock):
    impostor = Signer()
    platform.published.append(impostor)
    impostor.jwk = {**impostor.jwk, "kid": platform.signer.kid[:-1] + "x"}
    impostor.kid = impostor.jwk["kid"]
    verifier = OfflineVerifier(BASE, http=platform.client(), clock=clock)

    token = platform.offline_code(signer=impostor)
    assert verifier.verify(token, SCENARIO).code == "token_unknown_key"
    assert verifier.keys.kids == {platform.signer.kid}
    assert jwk_thumbprint(platform.signer.jwk) == platform.signer.kid
    assert len(platform.signer.kid) == 43


def test_deny_listed_handle_is_refused(platform: FakePlatform, verifier: OfflineVerifier):
    handle = new_handle()
    platform.revoked.add(handle)
    platform.revoked.add(new_handle())

    result = verifier.verify(platform.offline_code(handle=handle), SCENARIO)

    assert (result.decision, result.code, result.handle) == ("refused", "token_revoked", handle)
    assert verifier.verify(platform.offline_code(), SCENARIO).accepted


def test_stale_deny_list_refuses_to_decide(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    platform.deny_iat = int(clock())
    assert verifier.verify(platform.offline_code(), SCENARIO).accepted
    token = platform.offline_code()
    clock.advance(3601)  # past max_age, and the platform still serves the same (old) list

    result = verifier.verify(token, SCENARIO)

    assert (result.decision, result.code, result.deny_list_stale) == (
        "online_required",
        "deny_list_stale",
        True,
    )
    assert platform.count(DENY) == 2  # it tried to refresh once
    assert verifier.verify(token, SCENARIO).code == "deny_list_stale"
    assert platform.count(DENY) == 2  # and not again within the cooldown

    # A fresh list from the platform makes it decide again.
    platform.deny_iat = None
    platform.deny_version = 2
    clock.advance(60)
    result = verifier.verify(token, SCENARIO)
    assert (result.decision, result.deny_list_version, result.deny_list_stale) == ("accepted", 2, False)


def test_a_handle_on_a_stale_deny_list_is_still_refused(
    platform: FakePlatform, verifier: OfflineVerifier, clock: FakeClock
):
    revoked = new_handle()
    platform.revoked.add(revoked)
    platform.deny_iat = int(clock())
    verifier.refresh()
    platform.down = True
    clock.advance(7200)

    result = verifier.verify(platform.offline_code(handle=revoked), SCENARIO)

    assert (result.decision, result.code) == ("refused", "token_revoked")


def test_stale_deny_list_may_be_allowed_and_is_flagged(platform: FakePlatform, clock: FakeClock):
    verifier = OfflineVerifier(BASE, http=platform.client(), clock=clock, allow_stale_deny_list=True)
    platform.deny_iat = int(clock())
    verifier.refresh()
    platform.down = True
    clock.advance(7200)

    result = verifier.verify(platform.offline_code(), SCENARIO)

    assert (result.decision, result.deny_list_stale, result.deny_list_version) == ("accepted", True, 1)


def test_no_deny_list_means_no_offline_decision(platform: FakePlatform, clock: FakeClock):
    verifier = OfflineVerifier(BASE, http=platform.client(), clock=clock)
    verifier.keys.refresh()
    platform.down = True
    result = verifier.verify(platform.offline_code(), SCENARIO)
    assert (result.decision, result.code) == ("online_required", "deny_list_unavailable")


def test_no_key_set_means_no_offline_decision(platform: FakePlatform, clock: FakeClock):
    platform.down = True
    verifier = OfflineVerifier(BASE, http=platform.client(), clock=clock)
    result = verifier.verify(platform.offline_code(), SCENARIO)
    assert (result.decision, result.code) == ("online_required", "keys_unavailable")
    with pytest.raises(KeysUnavailable):
        verifier.decode(platform.offline_code())


def test_an_older_deny_list_does_not_replace_a_newer_one(platform: FakePlatform, verifier: OfflineVerifier):
    revoked = new_handle()
    platform.revoked.add(revoked)
    platform.deny_version = 5
    verifier.refresh()
    platform.deny_version = 4  # e.g. a replayed old response
    platform.revoked.clear()

    with pytest.raises(DenyListInvalid, match="older than the cached one"):
        verifier.deny_list.refresh()
    assert verifier.deny_list.current is not None
    assert verifier.deny_list.current.version == 5
    assert verifier.verify(platform.offline_code(handle=revoked), SCENARIO).code == "token_revoked"


def test_deny_list_signed_with_an_unpublished_key_is_refused(
    platform: FakePlatform, verifier: OfflineVerifier
):
    verifier.keys.refresh()
    platform.active = Signer()  # signs, but is not in the JWKS
    with pytest.raises(DenyListInvalid, match="signature check"):
        verifier.deny_list.refresh()
    assert verifier.deny_list.current is None


def test_a_code_used_on_this_device_is_refused_the_second_time(
    platform: FakePlatform, clock: FakeClock, queue: OfflineQueue
):
    verifier = OfflineVerifier(BASE, http=platform.client(), clock=clock, used_handles=queue)
    token = platform.offline_code()
    first = verifier.verify(token, SCENARIO)
    assert first.accepted
    queue.record(token, first)

    again = verifier.verify(token, SCENARIO)
    assert (again.decision, again.code) == ("refused", "token_replayed")


def test_cached_key_set_and_deny_list_survive_a_restart_without_network(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
):
    online = OfflineVerifier(BASE, http=platform.client(), clock=clock, cache_dir=tmp_path)
    online.refresh()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deny-list.jws", "jwks.json"]
    platform.down = True
    fetches = len(platform.requests)

    restarted = OfflineVerifier(BASE, http=platform.client(), clock=clock, cache_dir=tmp_path)
    assert restarted.verify(platform.offline_code(), SCENARIO).accepted
    no_network = OfflineVerifier(None, clock=clock, cache_dir=tmp_path)
    assert no_network.verify(platform.offline_code(), SCENARIO).accepted
    assert len(platform.requests) == fetches
