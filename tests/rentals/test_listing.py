"""Merchants list their own rentals, residents theirs, with cursor pagination; nobody sees another
party's rentals, and looking changes nothing."""

from __future__ import annotations

from tests.helpers import table_snapshot
from tests.passes import helpers as passes
from tests.rentals import helpers as h


def test_each_party_sees_only_its_own_rentals_page_by_page(client, sms, db, merchant):
    other_merchant = passes.partner(db, "merchant")
    alice, bob = h.resident(client, sms), h.resident(client, sms)
    mine = []
    for holder in (alice, bob):
        opened = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"])
        mine.append(opened.json()["id"])
        client.post(f"/v1/rentals/{mine[-1]}/return", headers=merchant["headers"])
    third = h.open_rental(client, merchant, h.verification(client, alice, merchant)["id"]).json()["id"]
    elsewhere = h.open_rental(
        client, other_merchant, h.verification(client, bob, other_merchant)["id"]
    ).json()["id"]
    passes.touch(client, merchant)
    passes.touch(client, other_merchant)
    snapshot = table_snapshot(db)

    first = client.get("/v1/rentals?limit=2", headers=merchant["headers"]).json()
    assert [r["id"] for r in first["data"]] == [third, mine[1]]
    assert first["has_more"] is True
    rest = client.get(f"/v1/rentals?limit=2&starting_after={mine[1]}", headers=merchant["headers"]).json()
    assert ([r["id"] for r in rest["data"]], rest["has_more"]) == ([mine[0]], False)
    open_only = client.get("/v1/rentals?status=open", headers=merchant["headers"]).json()
    assert [r["id"] for r in open_only["data"]] == [third]
    theirs = client.get("/v1/rentals", headers=other_merchant["headers"]).json()
    assert [r["id"] for r in theirs["data"]] == [elsewhere]

    assert [r["id"] for r in client.get("/v1/me/rentals", headers=alice["headers"]).json()["data"]] == [
        third,
        mine[0],
    ]
    bobs = client.get("/v1/me/rentals", headers=bob["headers"]).json()["data"]
    assert [r["id"] for r in bobs] == [elsewhere, mine[1]]
    assert "subject" not in bobs[0] and bobs[0]["partner"]["id"] == other_merchant["id"]

    # Another party's rental is "not found", for reading and for writing.
    assert (
        client.get(f"/v1/rentals/{elsewhere}", headers=merchant["headers"]).json()["code"]
        == "rental_not_found"
    )
    assert client.get(f"/v1/me/rentals/{third}", headers=bob["headers"]).json()["code"] == "rental_not_found"
    assert client.post(f"/v1/rentals/{elsewhere}/return", headers=merchant["headers"]).status_code == 404
    dispute = client.post(f"/v1/me/rentals/{third}/dispute", json={"reason": "x"}, headers=bob["headers"])
    assert dispute.status_code == 404
    assert client.get("/v1/rentals", headers=alice["headers"]).json()["code"] == "partner_required"
    assert table_snapshot(db) == snapshot


def test_a_key_without_rental_scopes_cannot_list(client, db):
    verifier = passes.partner(db, "merchant", ["verifications:write"])
    response = client.get("/v1/rentals", headers=verifier["headers"])
    assert (response.status_code, response.json()["code"]) == (403, "scope_required")
    reader = passes.partner(db, "merchant", ["rentals:read"])
    assert client.get("/v1/rentals", headers=reader["headers"]).status_code == 200
    assert h.open_rental(client, reader, "ver_X").json()["code"] == "scope_required"
