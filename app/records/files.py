"""Reading record files (CSV with a header line, or JSON Lines) as a stream of numbered rows.

:func:`open_record_file` checks the whole file's encoding and the header (CSV) or first line (JSONL)
before returning, so a file that cannot be read as a whole is refused with one clear error before
anything is written. Rows are then read lazily, in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from app.records.validation import FIELDS, SUBJECT_FIELDS, RowError

_BLOCK = 1 << 20
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class FileRefused(Exception):
    """The file cannot be imported at all; nothing was written."""


@dataclass
class RecordFile:
    path: Path
    format: str
    encoding: str
    size: int
    header: list[str] | None = None
    _handle: BinaryIO | None = None
    _reached: int | None = None

    @property
    def position(self) -> int:
        """Bytes consumed so far (for progress)."""
        if self._handle is not None and not self._handle.closed:
            return self._handle.tell()
        return self.size if self._reached is None else self._reached

    def line_count(self) -> int:
        """Rows in the file as its lines count them, the header not counted: the progress bar's total
        (a quoted CSV field holding a line break makes it an over-estimate, never an under-)."""
        lines, last = 0, b"\n"
        with self.path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
        lines += last != b"\n"  # a last line without its line break
        return max(lines - (self.format == "csv"), 0)

    def reached(self, position: int) -> None:
        """Where another process reading this file has got to (see :attr:`position`)."""
        self._reached = position

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | list[RowError]]]:
        """(row number, row) from 1, the header not counted; a row that cannot even be split into
        fields comes as its list of errors."""
        with self.path.open("rb") as handle:
            self._handle = handle
            text = io.TextIOWrapper(handle, encoding=self.encoding, newline="")
            if self.format == "csv":
                yield from self._csv_rows(text)
            else:
                yield from self._jsonl_rows(text)

    def _csv_rows(self, text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | list[RowError]]]:
        assert self.header is not None
        header, width = self.header, len(self.header)
        reader = csv.reader(text)
        next(reader)
        number = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field over the size limit: report the row, read on
                number += 1
                yield number, [RowError(number, None, "malformed_csv", str(exc)[:200])]
                continue
            if not values:
                continue  # blank line
            number += 1
            if len(values) != width:
                message = f"expected {width} fields, found {len(values)}"
                yield number, [RowError(number, None, "wrong_field_count", message)]
                continue
            yield number, dict(zip(header, values, strict=True))

    @staticmethod
    def _jsonl_rows(text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any] | list[RowError]]]:
        number = 0
        for line in text:
            if not line.strip():
                continue
            number += 1
            try:
                value = json.loads(line)
            except ValueError:
                yield number, [RowError(number, None, "invalid_json", "the line is not valid JSON")]
                continue
            if not isinstance(value, dict):
                yield number, [RowError(number, None, "invalid_row", "each line must be a JSON object")]
                continue
            yield number, value


def _check_encoding(path: Path, encoding: str, label: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"{path.name} is not valid {label}: undecodable byte at offset {offset + exc.start}. "
                    "Save it as UTF-8 (a GBK file: iconv -f GBK -t UTF-8), or pass --encoding."
                ) from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileRefused(
                f"{path.name} is not valid {encoding}: it ends in the middle of a character."
            ) from None


def _check_header(path: Path, encoding: str) -> list[str]:
    with path.open("rb") as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        try:
            header = next(csv.reader(text, strict=True), None)
        except csv.Error as exc:
            raise FileRefused(f"{path.name}: the header line is not valid CSV ({exc}).") from None
    if not header:
        raise FileRefused(f"{path.name} is empty: it needs a header line naming its columns.")
    header = [name.strip() for name in header]
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise FileRefused(
            f"{path.name}: unknown column(s) in the header: {', '.join(repr(n[:40]) for n in unknown)}. "
            f"Known columns: {', '.join(sorted(FIELDS))}."
        )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise FileRefused(f"{path.name}: column(s) named twice in the header: {', '.join(duplicates)}.")
    missing = [name for name in ("source_record_id", "category") if name not in header]
    if missing:
        raise FileRefused(f"{path.name}: the header lacks the required column(s): {', '.join(missing)}.")
    if not any(name in header for name in SUBJECT_FIELDS):
        raise FileRefused(f"{path.name}: the header needs a subject column: id_number, uscc or subject_id.")
    return header


def _check_first_line(path: Path, encoding: str) -> None:
    with path.open("rb") as handle:
        text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        for line in text:
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise FileRefused(f"{path.name}: the first line is not a JSON object; is this JSON Lines?")
            return


def open_record_file(path: Path, file_format: str | None = None, encoding: str = "utf-8") -> RecordFile:
    if not path.is_file():
        raise FileRefused(f"{path}: no such file.")
    chosen = file_format or FORMATS.get(path.suffix.lower())
    if chosen not in {"csv", "jsonl"}:
        raise FileRefused(f"{path.name}: cannot tell the format from the name; pass --format csv or jsonl.")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise FileRefused(f"unknown encoding {encoding!r}.") from None
    # A UTF-8 byte order mark (Excel writes one) is not part of the first column's name.
    codec = "utf-8-sig" if codec == "utf-8" else codec
    _check_encoding(path, codec, encoding)
    record_file = RecordFile(path=path, format=chosen, encoding=codec, size=path.stat().st_size)
    if chosen == "csv":
        record_file.header = _check_header(path, codec)
    else:
        _check_first_line(path, codec)
    return record_file
