"""The evidence directory: random names, private permissions, atomic writes, types sniffed from content.

A file is accepted when its bytes are a PDF, a PNG or a JPEG, whatever its name or declared type says;
images are also parsed (Pillow) so that a file that only starts like an image is refused.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

CHUNK = 64 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a scan at 600 dpi of an A3 page; larger is a decompression bomb
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ALLOWED_TYPES = (PDF, PNG, JPEG)
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}


class TooLarge(Exception):
    pass


class WrongType(Exception):
    pass


@dataclass(frozen=True)
class Stored:
    storage_name: str
    size_bytes: int
    sha256: str
    content_type: str


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def _check_whole(path: Path, content_type: str, size: int) -> None:
    if content_type == PDF:
        with path.open("rb") as handle:
            handle.seek(max(0, size - 1024))
            if b"%%EOF" not in handle.read():
                raise WrongType("the PDF is incomplete")
        return
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise WrongType("the image is too large in pixels")
            expected = "PNG" if content_type == PNG else "JPEG"
            if image.format != expected:
                raise WrongType("the image is not what it starts like")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise WrongType("the image cannot be read") from exc


class EvidenceStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _ensure(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.root / "incoming").mkdir(mode=0o700, exist_ok=True)

    def path_of(self, storage_name: str) -> Path:
        # Names are ours (hex), never the client's: no path can escape the root.
        if len(storage_name) != 32 or not all(c in "0123456789abcdef" for c in storage_name):
            raise ValueError("not a storage name")
        return self.root / storage_name[:2] / storage_name

    def save(self, chunks: Iterable[bytes], max_bytes: int) -> Stored:
        """Write the stream to a private temporary file, refuse it if too large or not an allowed type,
        then move it under a fresh random name. Nothing is left behind when it is refused."""
        self._ensure()
        temp = self.root / "incoming" / secrets.token_hex(16)
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge()
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise WrongType("the file is empty")
            content_type = sniff(head)
            if content_type is None:
                raise WrongType("only PDF, PNG and JPEG files are accepted")
            _check_whole(temp, content_type, size)
            name = secrets.token_hex(16)
            final = self.path_of(name)
            final.parent.mkdir(mode=0o700, exist_ok=True)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return Stored(name, size, digest.hexdigest(), content_type)

    def read(self, storage_name: str) -> Iterable[bytes]:
        with self.path_of(storage_name).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, storage_name: str) -> None:
        self.path_of(storage_name).unlink(missing_ok=True)

    def names(self) -> Iterable[tuple[str, float]]:
        """Every stored file (name, modification time), for the sweep of files without a row."""
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if shard.is_dir() and len(shard.name) == 2:
                for path in shard.iterdir():
                    yield path.name, path.stat().st_mtime
