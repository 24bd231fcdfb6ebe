"""The pass QR: version 10-M, numeric mode, fixed mask; decoded by zxing-cpp back to a token that verifies."""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
from typing import Any

import jwt
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from app.passes import qr
from tests.passes.helpers import verify

B64URL = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

# Only QR symbols: on about 1 token in 300 zxing also "finds" a Codabar inside the QR's modules.
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def random_token(length: int) -> str:
    chars = [secrets.choice(B64URL) for _ in range(length)]
    chars[90], chars[169] = ".", "."
    return "".join(chars)


@pytest.mark.parametrize(("length", "version"), [(256, 10), (292, 11), (330, 12)])
def test_a_token_becomes_a_numeric_m_symbol_of_version_10_or_the_first_that_holds_it(
    length: int, version: int
) -> None:
    for _ in range(3):
        token = random_token(length)
        made, modules = qr.encode(qr.to_numeric(token))
        assert (made, len(modules)) == (version, 17 + 4 * version)
        decoded = decode_png(qr.png(modules))
        assert decoded.extra["Version"] == str(version)
        assert decoded.extra["ECLevel"] == "M"
        assert decoded.extra["DataMask"] == qr.MASK_PATTERN
        assert qr.from_numeric(decoded.text) == token


def test_numeric_mode_is_two_digits_per_character() -> None:
    # e=101, y=121, J=74, "."=46, "-"=45, "_"=95, z=122; each minus 45
    assert qr.to_numeric("eyJ.-_z") == "56762901005077"
    token = random_token(256)
    assert qr.from_numeric(qr.to_numeric(token)) == token
    # 256 characters are 512 digits: the most numeric mode holds at 10-M is 513, the next one is 11.
    assert qr.encode("7" * 513)[0] == 10
    assert qr.encode("7" * 514)[0] == 11


def modules_drawn_by(svg: str) -> list[bytes]:
    """Read back the SVG's path: each row is ``M<x> <y+0.5>`` then ``h1`` (dark) or ``m1 0`` (light)."""
    path = re.search(r' d="([^"]*)"', svg)
    assert path is not None
    rows = []
    for row in path.group(1).split("M")[1:]:
        start, rest = re.match(r"(\d+) [\d.]+(.*)", row).groups()  # type: ignore[union-attr]
        assert int(start) == qr.BORDER
        rows.append(bytes(1 if step == "h1" else 0 for step in re.findall(r"h1|m1 0", rest)))
    return rows


def test_the_svg_draws_exactly_the_modules() -> None:
    _, modules = qr.encode(qr.to_numeric(random_token(256)))
    svg = qr.svg(modules)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 65 65"')
    assert modules_drawn_by(svg) == modules
    assert len(svg) < 12_000


def decode_png(png: bytes) -> Any:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=QR_ONLY)
    assert len(results) == 1
    return results[0]


def test_a_pass_qr_decodes_to_its_token_at_version_10_m_and_verifies(
    client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    # given a fresh pass
    response = client.post("/v1/me/passes", headers=holder["headers"])
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    token = issued["token"]
    header, payload, _ = token.split(".")
    assert len(token) == 256
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "EdDSA", "kid": issued_kid(token)}
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert list(claims) == ["h", "nbf", "exp"]
    assert claims["exp"] - claims["nbf"] == 95
    assert issued["qr"] | {"svg_data_url": None} == {
        "version": 10,
        "error_correction": "M",
        "mode": "numeric",
        "mask": qr.MASK_PATTERN,
        "text": qr.to_numeric(token),
        "svg_url": f"/v1/me/passes/{issued['id']}.svg",
        "png_url": f"/v1/me/passes/{issued['id']}.png",
        "svg_data_url": None,
    }

    # when its PNG is read by zxing-cpp
    png = client.get(issued["qr"]["png_url"], headers=holder["headers"])
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    decoded = decode_png(png.content)

    # then it is a version 10-M numeric symbol with our mask, whose digits are the token
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.extra["Version"] == "10"
    assert decoded.extra["ECLevel"] == "M"
    assert decoded.extra["DataMask"] == qr.MASK_PATTERN
    assert decoded.text == issued["qr"]["text"]
    assert qr.from_numeric(decoded.text) == token
    # the SVG by id is the SVG inline
    svg = client.get(issued["qr"]["svg_url"], headers=holder["headers"])
    assert svg.headers["content-type"] == "image/svg+xml"
    assert (
        issued["qr"]["svg_data_url"] == "data:image/svg+xml;base64," + base64.b64encode(svg.content).decode()
    )

    # and the decoded token verifies, online with the platform and with PyJWT against the JWKS
    jwks = client.get("/.well-known/jwks.json").json()
    key = next(k for k in jwks["keys"] if k["kid"] == issued_kid(token))
    public = jwt.PyJWK(key).key
    assert jwt.decode(qr.from_numeric(decoded.text), public, algorithms=["EdDSA"]) == claims
    verified = verify(client, merchant, qr.from_numeric(decoded.text))
    assert verified.status_code == 201, verified.text
    assert verified.json()["decision"] == "eligible"


def issued_kid(token: str) -> str:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
