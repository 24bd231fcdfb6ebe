"""QR codes for pass tokens, made by ``qrcode``'s public API: numeric mode, error correction M, version 10
(or the smallest above it that holds a longer token) and a fixed mask.

Why numeric mode: byte mode holds 213 characters at version 10-M, numeric mode 513 digits. Writing each
base64url character ``c`` as the two digits ``ord(c) - 45`` (as SMART Health Cards do; "." becomes "01")
turns the 256-character online token into 512 digits, so it fits version 10 (57×57 modules), which cheap
phones still read from a screen.

Why the version and the mask are given: left to itself, ``qrcode`` renders the symbol once per mask and
scores each, eight times the work of one symbol; with one fixed mask the symbol is still standard, and
every reader reads it. ``add_data(optimize=0)`` keeps the digits one numeric segment without searching
for a better split (there is none for digits only).

The SVG and PNG are drawn here from ``QRCode.get_matrix()``: the library's SVG factories build an XML tree
module by module, which costs more than the symbol itself.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from itertools import chain

import qrcode

ERROR_CORRECTION = qrcode.ERROR_CORRECT_M
# Mask 2 (column % 3 == 0) scored lowest on average (ISO 18004 penalty) over random tokens at version 10.
MASK_PATTERN = 2
BORDER = 4  # the quiet zone the standard asks for, in modules
PNG_SCALE = 8
ONLINE_VERSION = 10
ONLINE_CAPACITY_DIGITS = 513  # what numeric mode holds at 10-M (ISO 18004, table 7)

_DIGITS = str.maketrans(
    {c: f"{ord(c) - 45:02d}" for c in "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"}
)


def to_numeric(token: str) -> str:
    """``eyJ…`` → ``5678…``: two digits per character, ``ord(c) - 45``."""
    return token.translate(_DIGITS)


def from_numeric(digits: str) -> str:
    if len(digits) % 2 or not digits.isdigit():
        raise ValueError("QR content is not pairs of digits")
    return "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))


def encode(digits: str) -> tuple[int, list[bytes]]:
    """(QR version, the symbol's modules): one ``bytes`` per row, 1 = dark, without the quiet zone."""
    symbol = qrcode.QRCode(
        version=ONLINE_VERSION, error_correction=ERROR_CORRECTION, mask_pattern=MASK_PATTERN, border=0
    )
    symbol.add_data(digits, optimize=0)
    # Fitting writes the data once more to count its bits: only for content longer than an online pass
    # (offline codes), which then gets the first version from ONLINE_VERSION up that holds it.
    symbol.make(fit=len(digits) > ONLINE_CAPACITY_DIGITS)
    return symbol.version, [bytes(row) for row in symbol.get_matrix()]


def encode_text(text: str) -> list[bytes]:
    """The modules of a short text's symbol (a scanner's enrolment code): the smallest version that holds
    it at error correction M, the library's own mode and mask choice (made rarely, unlike a pass)."""
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0)
    symbol.add_data(text)
    symbol.make(fit=True)
    return [bytes(row) for row in symbol.get_matrix()]


# --- rendering ---------------------------------------------------------------------------------------

_DARK, _LIGHT = b"h1", b"m1 0"


@lru_cache
def _row_starts(size: int) -> tuple[bytes, ...]:
    return tuple(f"M{BORDER} {y + 0.5}".encode() for y in range(BORDER, BORDER + size))


def svg(modules: list[bytes]) -> str:
    """Each row is one stroked line one module wide: a dark module draws ``h1``, a light one moves ``m1 0``.
    The rows are joined behind their ``M`` moves and two ``bytes.replace`` calls draw them all, with no
    per-module Python. Crisp edges, white quiet zone of ``BORDER`` modules."""
    width = len(modules) + 2 * BORDER
    rows = b"".join(chain.from_iterable(zip(_row_starts(len(modules)), modules, strict=True)))
    path = rows.replace(b"\x01", _DARK).replace(b"\x00", _LIGHT).decode()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {width}" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{width}" fill="#fff"/>'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{path}"/></svg>'
    )


def svg_data_url(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode()).decode()


def png(modules: list[bytes], scale: int = PNG_SCALE) -> bytes:
    """Black on white, ``scale`` pixels per module, 1-bit PNG."""
    from PIL import Image

    size = len(modules)
    width = size + 2 * BORDER
    # Mode "L": one byte per pixel, 0 black and 255 white.
    dark_to_black = bytes.maketrans(b"\x00\x01", b"\xff\x00")
    symbol = Image.frombytes("L", (size, size), b"".join(modules).translate(dark_to_black))
    image = Image.new("L", (width, width), 255)
    image.paste(symbol, (BORDER, BORDER))
    buffer = io.BytesIO()
    scaled = image.resize((width * scale, width * scale), Image.Resampling.NEAREST)
    scaled.convert("1", dither=Image.Dither.NONE).save(buffer, format="PNG")
    return buffer.getvalue()
