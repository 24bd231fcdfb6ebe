"""QR content ↔ token, and the image round trip: render (qrcode, level M) → decode (zxing-cpp) → verify."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import qrcode
from partner_testkit import SCENARIO, FakePlatform, new_handle
from PIL import Image
from xinyi_partner import (
    OfflineVerifier,
    QrDecodeError,
    decode_qr_image,
    qr_digits_to_token,
    token_to_qr_digits,
)
from xinyi_partner.qr import make_qr, qr_text_to_token, render_qr_png


def test_each_character_is_two_digits_ord_minus_45():
    assert token_to_qr_digits("-.09AZ_az") == "00" + "01" + "03" + "12" + "20" + "45" + "50" + "52" + "77"
    assert qr_digits_to_token("2001200120") == "A.A.A"
    token = "eyJhbGciOiJFZERTQSJ9.eyJoIjoiYWJjIn0.c2ln-_"
    assert qr_digits_to_token(token_to_qr_digits(token)) == token


@pytest.mark.parametrize("content", ["123", "99" * 30, "20012001", "2013200120", "abc", ""])
def test_content_that_is_not_a_pass(content: str):
    with pytest.raises(QrDecodeError) as caught:
        qr_text_to_token(content)
    assert caught.value.code == "qr_not_a_pass"


def test_a_real_online_pass_fits_version_10_at_level_m(platform: FakePlatform):
    token = platform.online_pass(handle=new_handle())
    code = make_qr(token)
    assert len(token) == 256  # header 90 + payload 78 + signature 86 + two dots
    assert len(token_to_qr_digits(token)) == 512  # numeric mode holds 513 digits at 10-M
    assert code.version == 10
    assert code.error_correction == qrcode.constants.ERROR_CORRECT_M


def test_render_decode_verify_round_trip(platform: FakePlatform, verifier: OfflineVerifier, tmp_path: Path):
    handle = new_handle()
    token = platform.offline_code(handle=handle)
    png = render_qr_png(token, tmp_path / "pass.png")

    assert (tmp_path / "pass.png").read_bytes() == png
    assert decode_qr_image(tmp_path / "pass.png") == token
    assert decode_qr_image(png) == token
    assert decode_qr_image(Image.open(io.BytesIO(png))) == token
    result = verifier.verify_image(tmp_path / "pass.png", SCENARIO)
    assert (result.decision, result.handle) == ("accepted", handle)


def test_a_photographed_looking_code_still_decodes(platform: FakePlatform):
    """Scaled down, on a grey background, with an RGBA palette: what a kiosk camera might hand over."""
    token = platform.online_pass()
    qr = Image.open(io.BytesIO(render_qr_png(token, box_size=3))).convert("RGBA")
    canvas = Image.new("RGBA", (qr.width + 80, qr.height + 60), (200, 200, 200, 255))
    canvas.paste(qr, (50, 20))
    assert decode_qr_image(canvas) == token


def test_image_without_a_qr_code():
    blank = Image.new("L", (200, 200), 255)
    with pytest.raises(QrDecodeError) as caught:
        decode_qr_image(blank)
    assert caught.value.code == "qr_not_found"


def test_qr_code_holding_something_else():
    image = qrcode.make("https://example.com/not-a-pass").get_image()
    with pytest.raises(QrDecodeError) as caught:
        decode_qr_image(image)
    assert caught.value.code == "qr_not_a_pass"


def test_unreadable_image_file(tmp_path: Path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(QrDecodeError) as caught:
        decode_qr_image(tmp_path / "broken.png")
    assert caught.value.code == "qr_unreadable_image"
