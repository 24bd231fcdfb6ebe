"""QR content ↔ token, and reading a QR image (the ``qr`` extra: zxing-cpp, Pillow; qrcode to render).

The pass is encoded in QR numeric mode, as SMART Health Cards do: each character ``c`` of the compact JWS
(base64url and ``.``) becomes the two digits ``ord(c) - 45`` (``.`` is ``01``, ``-`` is ``00``, ``z`` is
``77``). Numeric mode packs 3.33 bits per digit, so a ~250-character token fits QR version 10 at level M.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from xinyi_partner.errors import QrDecodeError

_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_.-]+$")
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def token_to_qr_digits(token: str) -> str:
    """The numeric-mode QR content of ``token``."""
    token = token.strip()
    if not _TOKEN_CHARS.match(token):
        raise ValueError("a token holds only base64url characters and '.'")
    return "".join(f"{ord(c) - 45:02d}" for c in token)


def qr_digits_to_token(digits: str) -> str:
    """The token in a numeric QR content. Raises :class:`QrDecodeError` (``qr_not_a_pass``)."""
    digits = digits.strip()
    if not digits.isdigit() or len(digits) % 2:
        raise QrDecodeError("The QR content is not an even run of digits.", code="qr_not_a_pass")
    token = "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))
    if not _COMPACT.match(token):
        raise QrDecodeError("The QR content does not decode to a token.", code="qr_not_a_pass")
    return token


def qr_text_to_token(text: str) -> str:
    """Numeric content (the platform's encoding) or, leniently, a compact JWS in byte mode."""
    text = text.strip()
    if text.isdigit():
        return qr_digits_to_token(text)
    if _COMPACT.match(text):
        return text
    raise QrDecodeError("The QR code is not a 信易+ pass.", code="qr_not_a_pass")


def _open_image(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    try:
        if isinstance(image, bytes | bytearray):
            opened = Image.open(io.BytesIO(image))
        elif isinstance(image, str | Path):
            opened = Image.open(Path(image))
        else:
            raise TypeError(f"expected a path, bytes or a PIL image, not {type(image).__name__}")
        opened.load()
    except (OSError, ValueError) as exc:
        raise QrDecodeError(f"The image could not be read: {exc}", code="qr_unreadable_image") from exc
    return opened


def decode_qr_image(image: Any) -> str:
    """The token in a QR image (a path, PNG/JPEG bytes or a PIL image). Raises :class:`QrDecodeError`:
    ``qr_not_found`` (no QR code), ``qr_not_a_pass`` (a QR code holding something else) or
    ``qr_unreadable_image``."""
    import zxingcpp

    picture = _open_image(image)
    if picture.mode not in ("L", "RGB"):
        picture = picture.convert("L")
    barcodes = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    if not barcodes:
        raise QrDecodeError("No QR code was found in the image.", code="qr_not_found")
    last: QrDecodeError | None = None
    for barcode in barcodes:
        try:
            return qr_text_to_token(barcode.text)
        except QrDecodeError as exc:
            last = exc
    assert last is not None
    raise last


def make_qr(token: str, *, box_size: int = 6, border: int = 4) -> Any:
    """A ``qrcode.QRCode`` holding ``token`` in numeric mode at error-correction level M (``.version``
    says which version it took)."""
    import qrcode
    from qrcode.util import MODE_NUMBER, QRData

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(QRData(token_to_qr_digits(token), mode=MODE_NUMBER))
    code.make(fit=True)
    return code


def render_qr_png(token: str, path: str | Path | None = None, *, box_size: int = 6) -> bytes:
    """A PNG of ``token``'s QR code (as the resident's app shows it), written to ``path`` if given."""
    buffer = io.BytesIO()
    make_qr(token, box_size=box_size).make_image().save(buffer)
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png
