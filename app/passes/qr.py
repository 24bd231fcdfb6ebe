"""QR codes for pass tokens: numeric mode, error correction M, a fixed version and a fixed mask.

Why numeric mode: byte mode holds 213 characters at version 10-M, numeric mode 513 digits. Writing each
base64url character ``c`` as the two digits ``ord(c) - 45`` (as SMART Health Cards do; "." becomes "01")
turns the 256-character online token into 512 digits, so it fits version 10 (57×57 modules), which cheap
phones still read from a screen.

Why a fixed mask: choosing the mask means rendering all eight and scoring each (about 20 ms in pure
Python); with one fixed mask the symbol is still standard, and every reader reads it.

How it stays fast: the ``qrcode`` library builds, once per version, the symbol with every data bit zero
(finder, timing and alignment patterns, format and version information, the mask over empty data) and the
order in which it places data bits. A token then costs its bit stream, Reed–Solomon over precomputed
tables, and one XOR of its scattered bits onto that symbol: about 0.3 ms with the SVG, where
``QRCode.make`` with a fixed mask takes about 4.5 ms. ``tests/passes/test_qr.py`` checks module for
module that the result is what ``qrcode`` itself makes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import itemgetter

import qrcode
from qrcode import base as qr_base
from qrcode import constants
from qrcode import util as qr_util
from qrcode.LUT import rsPoly_LUT

ERROR_CORRECTION = constants.ERROR_CORRECT_M
# Mask 2 (column % 3 == 0) scored lowest on average (ISO 18004 penalty) over random tokens at version 10.
MASK_PATTERN = 2
BORDER = 4  # the quiet zone the standard asks for, in modules
PNG_SCALE = 8
ONLINE_VERSION = 10

_DIGITS = str.maketrans(
    {c: f"{ord(c) - 45:02d}" for c in "-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"}
)
_PAD = (0xEC, 0x11)
_BIT_BYTES = bytes.maketrans(b"01", b"\x00\x01")


def to_numeric(token: str) -> str:
    """``eyJ…`` → ``5678…``: two digits per character, ``ord(c) - 45``."""
    return token.translate(_DIGITS)


def from_numeric(digits: str) -> str:
    if len(digits) % 2 or not digits.isdigit():
        raise ValueError("QR content is not pairs of digits")
    return "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))


# --- Galois field and Reed–Solomon -------------------------------------------------------------------


def _gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return qr_base.gexp(qr_base.glog(a) + qr_base.glog(b))


@lru_cache
def _rs_table(ec_count: int) -> tuple[int, ...]:
    """For each feedback byte f: the generator's coefficients times f, as one big integer."""
    generator = rsPoly_LUT.get(ec_count)
    if generator is None:  # pragma: no cover - every count used at level M is in the table
        poly = qr_base.Polynomial([1], 0)
        for i in range(ec_count):
            poly = poly * qr_base.Polynomial([1, qr_base.gexp(i)], 0)
        generator = [poly[i] for i in range(len(poly))]
    tail = generator[1:]
    return tuple(int.from_bytes(bytes(_gf_mul(g, f) for g in tail), "big") for f in range(256))


def _ec_codewords(data: bytes | bytearray, ec_count: int) -> bytes:
    table = _rs_table(ec_count)
    shift = 8 * (ec_count - 1)
    mask = (1 << (8 * ec_count)) - 1
    remainder = 0
    for byte in data:
        feedback = byte ^ (remainder >> shift)
        remainder = ((remainder << 8) & mask) ^ table[feedback]
    return remainder.to_bytes(ec_count, "big")


# --- layout of one version ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    version: int
    size: int
    base: bytes  # row after row, 1 = dark: every data bit zero, mask applied
    blocks: tuple[tuple[int, int], ...]  # (data codewords, ec codewords) per block
    data_codewords: int
    count_bits: int  # length of the numeric character-count field
    block_starts: tuple[int, ...]  # where each block's data begins
    # Picks, from all blocks' data then all blocks' EC codewords, the order they are placed in.
    interleave: Callable[[bytes], tuple[int, ...]]
    # Given the placed codewords' bits (one byte each, 0 or 1) and a final zero, picks for every module of
    # the symbol, row after row, the bit placed there (the zero where no data bit goes).
    scatter: Callable[[bytes], tuple[int, ...]]


def _placement(modules: list[list[bool | None]]) -> tuple[int, ...]:
    """The free modules in the order ``QRCode.map_data`` fills them (two-column zigzag from the right)."""
    count = len(modules)
    positions = []
    row, step = count - 1, -1
    for col in range(count - 1, 0, -2):
        if col <= 6:  # skip the vertical timing pattern
            col -= 1
        while True:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    positions.append(row * count + c)
            row += step
            if row < 0 or row >= count:
                row -= step
                step = -step
                break
    return tuple(positions)


@lru_cache
def layout(version: int) -> _Layout:
    blocks = qr_base.rs_blocks(version, ERROR_CORRECTION)
    total = sum(b.total_count for b in blocks)
    symbol = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECTION, mask_pattern=MASK_PATTERN, border=0
    )
    symbol.data_cache = [0] * total
    symbol.makeImpl(False, MASK_PATTERN)
    base = bytes(1 if m else 0 for row in symbol.modules for m in row)

    blank = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECTION, mask_pattern=MASK_PATTERN, border=0
    )
    blank.modules_count = version * 4 + 17
    blank.modules = [[None] * blank.modules_count for _ in range(blank.modules_count)]
    blank.setup_position_probe_pattern(0, 0)
    blank.setup_position_probe_pattern(blank.modules_count - 7, 0)
    blank.setup_position_probe_pattern(0, blank.modules_count - 7)
    blank.setup_position_adjust_pattern()
    blank.setup_timing_pattern()
    blank.setup_type_info(False, MASK_PATTERN)
    if version >= 7:
        blank.setup_type_number(False)
    shapes = [(b.data_count, b.total_count - b.data_count) for b in blocks]
    positions = _placement(blank.modules)
    bit_count = total * 8
    source = [bit_count] * len(base)  # the final zero
    for bit, position in enumerate(positions[:bit_count]):
        source[position] = bit
    return _Layout(
        version=version,
        size=symbol.modules_count,
        base=base,
        blocks=tuple(shapes),
        data_codewords=sum(d for d, _ in shapes),
        count_bits=qr_util.length_in_bits(qr_util.MODE_NUMBER, version),
        block_starts=tuple(sum(d for d, _ in shapes[:i]) for i in range(len(shapes))),
        interleave=itemgetter(*_interleaving(shapes)),
        scatter=itemgetter(*source),
    )


def _interleaving(shapes: list[tuple[int, int]]) -> list[int]:
    """Codeword i of every block in turn, data first, then error correction (ISO 18004 7.6)."""
    order: list[int] = []
    data_total = sum(d for d, _ in shapes)
    for part, offset0 in ((0, 0), (1, data_total)):
        starts, offset = [], offset0
        for shape in shapes:
            starts.append(offset)
            offset += shape[part]
        for i in range(max(shape[part] for shape in shapes)):
            order.extend(start + i for start, shape in zip(starts, shapes, strict=True) if i < shape[part])
    return order


# Three digits → ten bits, two → seven, one → four (ISO 18004 numeric mode), as text for one int() call.
_GROUP_BITS = {
    **{f"{n:03d}": f"{n:010b}" for n in range(1000)},
    **{f"{n:02d}": f"{n:07b}" for n in range(100)},
    **{f"{n:d}": f"{n:04b}" for n in range(10)},
}


def _numeric_bits(digits: str, count_bits: int) -> tuple[int, int]:
    groups = [_GROUP_BITS[digits[i : i + 3]] for i in range(0, len(digits), 3)]
    text = f"{qr_util.MODE_NUMBER:04b}{len(digits):0{count_bits}b}{''.join(groups)}"
    return int(text, 2), len(text)


def numeric_capacity_bits(digit_count: int, version: int) -> int:
    count_bits = qr_util.length_in_bits(qr_util.MODE_NUMBER, version)
    tail = (0, 4, 7)[digit_count % 3]
    return 4 + count_bits + 10 * (digit_count // 3) + tail


@lru_cache(maxsize=64)
def smallest_version(digit_count: int) -> int:
    for version in range(1, 41):
        capacity = sum(b.data_count for b in qr_base.rs_blocks(version, ERROR_CORRECTION)) * 8
        if numeric_capacity_bits(digit_count, version) <= capacity:
            return version
    raise ValueError("too long for any QR version at level M")


def codewords(digits: str, version: int) -> bytes:
    """Data and error-correction codewords, interleaved, for ``digits`` in numeric mode."""
    shape = layout(version)
    value, length = _numeric_bits(digits, shape.count_bits)
    capacity = shape.data_codewords * 8
    if length > capacity:
        raise ValueError(f"{len(digits)} digits do not fit version {version}-M")
    terminator = min(4, capacity - length)
    length += terminator
    value <<= terminator
    padding = -length % 8
    value <<= padding
    length += padding
    data = bytearray(value.to_bytes(length // 8, "big"))
    for i in range(shape.data_codewords - len(data)):
        data.append(_PAD[i % 2])
    ec = b"".join(
        _ec_codewords(data[start : start + data_count], ec_count)
        for start, (data_count, ec_count) in zip(shape.block_starts, shape.blocks, strict=True)
    )
    return bytes(shape.interleave(bytes(data) + ec))


def matrix(digits: str, version: int) -> list[bytes]:
    """The symbol's modules, one ``bytes`` per row (1 = dark), without the quiet zone: the codewords' bits
    scattered to their modules by one ``itemgetter`` and XOR-ed onto the blank symbol as two big integers
    (no per-bit Python)."""
    shape = layout(version)
    placed = codewords(digits, version)
    bits = f"{int.from_bytes(placed, 'big'):0{len(placed) * 8}b}".encode().translate(_BIT_BYTES) + b"\x00"
    size = shape.size
    count = size * size
    data = int.from_bytes(bytes(shape.scatter(bits)), "big")
    flat = (int.from_bytes(shape.base, "big") ^ data).to_bytes(count, "big")
    return [flat[r : r + size] for r in range(0, count, size)]


# --- rendering ---------------------------------------------------------------------------------------

_DARK, _LIGHT = b"h1", b"m1 0"


@lru_cache
def _row_starts(size: int) -> tuple[bytes, ...]:
    return tuple(f"M{BORDER} {y + 0.5}".encode() for y in range(BORDER, BORDER + size))


def svg(modules: list[bytes]) -> str:
    """Each row is one stroked line one module wide: a dark module draws ``h1``, a light one moves ``m1 0``.
    The rows are joined behind their ``M`` moves and two ``bytes.replace`` calls draw them all, no
    per-module Python: well under a millisecond, about 10 kB. Crisp edges, white quiet zone of ``BORDER``
    modules."""
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
