"""What a score says for itself: its reasons (what moved it) and improvements (what would raise it), and
the JSON they are stored as beside the score. The engine makes them (:mod:`app.scoring.engine`)."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

import orjson


class Reason(NamedTuple):
    code: str
    dimension: str
    points: int
    count: int  # type: ignore[assignment]  # the field hides tuple.count(), which nothing here calls


class Improvement(NamedTuple):
    """Something that would raise the score. ``kind``: repair | expiry | list_end | headroom."""

    kind: str
    code: str  # the reason code (repair, expiry, list_end) or the dimension (headroom)
    points: int  # at most this many points back
    ref: str | None = None  # record or list entry id
    available_from: date | None = None  # repair: the day it may be asked
    until: date | None = None  # the day it stops counting by itself


def explanation_text(reasons_json: str, improvements: tuple[Improvement, ...]) -> str:
    """The stored explanation's JSON text from the reasons' JSON text and the improvements."""
    # orjson writes a date as its ISO text, as improvement_json does.
    return f'{{"reasons":{reasons_json},"improvements":{orjson.dumps([improvement_raw(i) for i in improvements]).decode()}}}'


def improvement_json(item: Improvement) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": item.kind, "code": item.code, "points": item.points}
    if item.ref is not None:
        data["ref"] = item.ref
    if item.available_from is not None:
        data["available_from"] = item.available_from.isoformat()
    if item.until is not None:
        data["until"] = item.until.isoformat()
    return data


def improvement_raw(item: Improvement) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": item.kind, "code": item.code, "points": item.points}
    if item.ref is not None:
        data["ref"] = item.ref
    if item.available_from is not None:
        data["available_from"] = item.available_from
    if item.until is not None:
        data["until"] = item.until
    return data


def reasons_from_json(data: dict[str, Any]) -> list[Reason]:
    return [Reason(code, dimension, points, count) for code, dimension, points, count in data["reasons"]]


def improvements_from_json(data: dict[str, Any]) -> list[Improvement]:
    return [
        Improvement(
            kind=item["kind"],
            code=item["code"],
            points=item["points"],
            ref=item.get("ref"),
            available_from=date.fromisoformat(item["available_from"]) if "available_from" in item else None,
            until=date.fromisoformat(item["until"]) if "until" in item else None,
        )
        for item in data["improvements"]
    ]
