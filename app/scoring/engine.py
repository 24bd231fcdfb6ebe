"""The scoring engine: a pure, deterministic function of (model, inputs, scoring date).

No database, no clock: the caller says which records and list entries the subject has and which day it is.
The same inputs always give the same score, reasons and hints, whatever their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import orjson

from app.scoring.reasons import Improvement, Reason, explanation_text, improvement_json
from app.scoring.scoring_model import (
    ADJUSTMENT_DIMENSION,
    BLACK_LIST,
    BLACK_LIST_LEVEL,
    RED_LIST,
    SCORE_BOUNDS,
    ScoringModel,
)

COUNTING_STATUSES = frozenset({"active", "disputed"})
MAX_IMPROVEMENTS = 20
# Records, list entries, reasons and hints are named tuples, not dataclasses: a rebuild makes tens of
# millions of them, and a tuple is built several times faster. They are as immutable and comparable.

# Part of every stored score's digest: bump it when the engine's output changes for the same model and
# inputs, so that the next rebuild rewrites every score.
ENGINE_REVISION = "1"
MAX_HEADROOM_HINTS = 3


class UnknownFactor(ValueError):
    """A record kind the model has no points for: the model and the record catalog disagree."""


class RecordInput(NamedTuple):
    record_id: str
    key: str  # the factor key: category, then outcome/grade/severity ("administrative_penalty.serious")
    status: str = "active"
    counts_until: date | None = None  # the first day it no longer counts; None: no end
    repairable_from: date | None = None  # credit repair may be asked from this day; None: not repairable


class ListInput(NamedTuple):
    entry_id: str
    list_type: str  # "red" | "black"
    status: str = "active"
    ends_on: date | None = None  # the first day it no longer applies; None: until removed


@dataclass(frozen=True, slots=True)
class ScoringInputs:
    records: tuple[RecordInput, ...] = ()
    lists: tuple[ListInput, ...] = ()


@dataclass(frozen=True)
class ScoreResult:
    model_version: str
    score: int
    level: str
    blocked: bool
    contributions: dict[str, int]
    reasons: tuple[Reason, ...]
    improvements: tuple[Improvement, ...] = field(default=())
    # Where the result came from, when the engine computed it: its JSON text is already made.
    _core: _Core | None = field(default=None, compare=False, repr=False)

    def explanation(self) -> dict[str, Any]:
        """The JSON stored beside the score: compact, readable, enough to render both languages."""
        return {
            "reasons": [list(reason) for reason in self.reasons],
            "improvements": [improvement_json(i) for i in self.improvements],
        }

    def contributions_json(self) -> str:
        """``contributions`` as compact JSON text (what ``orjson.dumps`` gives)."""
        if self._core is not None:
            return self._core.contributions_json
        return orjson.dumps(self.contributions).decode()

    def explanation_json(self) -> str:
        """:meth:`explanation` as compact JSON text, the reasons' part made once per distinct set of
        record kinds (a rebuild stores millions of them)."""
        if self._core is not None:
            reasons = self._core.reasons_json
        else:
            reasons = orjson.dumps([list(reason) for reason in self.reasons]).decode()
        return explanation_text(reasons, self.improvements)


def record_counts(record: RecordInput, as_of: date) -> bool:
    return record.status in COUNTING_STATUSES and (record.counts_until is None or record.counts_until > as_of)


def list_applies(entry: ListInput, as_of: date) -> bool:
    return entry.status == "active" and (entry.ends_on is None or entry.ends_on > as_of)


def _day(value: date | None) -> tuple[bool, date]:
    return (value is None, value or date.min)


def _sort_key(reason: Reason) -> tuple[int, int, str]:
    return (0 if reason.code == BLACK_LIST else 1, -abs(reason.points), reason.code)


class _Core(NamedTuple):
    """What a score is apart from the subject's own record ids and dates: shared by every subject with
    the same counting record kinds and list counts, so computed (and serialized) once per such set."""

    score: int
    level: str
    blocked: bool
    contributions: dict[str, int]  # never handed out: each result gets a copy
    reasons: tuple[Reason, ...]
    headroom: tuple[Improvement, ...]
    contributions_json: str
    reasons_json: str


# (weighted points, record id, key, then the two dates made comparable when None): a total order.
_Negative = tuple[float, str, str, bool, date, bool, date, date | None, date | None]
# The sorted factor keys of the records that count (a disputed one as "key|disputed"), red and black counts.
_Signature = tuple[tuple[str, ...], int, int]
_DISPUTED = "|disputed"
# Enough for every distinct set of record kinds a batch meets, small enough to stay a few tens of MB.
CORE_CACHE_SIZE = 20_000


@dataclass
class _Compiled:
    """The model as plain tuples and dicts: the engine runs once per subject, millions of times."""

    model: ScoringModel
    # key, or "key|disputed" -> (key, points for one such record, dimension weight, a penalty kind,
    # dimension)
    tokens: dict[str, tuple[str, float, float, bool, str]]
    factors: dict[str, tuple[str, int, float]]  # key -> (dimension, points, dimension weight)
    dimensions: tuple[tuple[str, int, int, bool], ...]  # (name, max positive, max negative, has a hint)
    bands: tuple[tuple[int, str], ...]  # (min score, level), highest first
    cores: dict[_Signature, _Core] = field(default_factory=dict)
    # (dimension, its sorted tokens, red list entries counted there) -> (capped total, its reasons)
    parts: dict[tuple[str, tuple[str, ...], int], tuple[int, tuple[Reason, ...]]] = field(
        default_factory=dict
    )

    def core(self, signature: _Signature) -> _Core:
        found = self.cores.get(signature)
        if found is None:
            for token in signature[0]:
                if token not in self.tokens:
                    key = token.removesuffix(_DISPUTED)
                    raise UnknownFactor(f"model {self.model.version} has no factor {key!r}")
            if len(self.cores) >= CORE_CACHE_SIZE:
                self.cores.clear()
            found = self.cores[signature] = _core(self, *signature)
        return found

    def part(
        self, dimension: tuple[str, int, int, bool], tokens: tuple[str, ...], red: int
    ) -> tuple[int, tuple[Reason, ...]]:
        # Far fewer distinct sets per dimension than per subject: most new subjects reuse these.
        signature = (dimension[0], tokens, red)
        found = self.parts.get(signature)
        if found is None:
            if len(self.parts) >= CORE_CACHE_SIZE:
                self.parts.clear()
            found = self.parts[signature] = _part(self, dimension, tokens, red)
        return found


_COMPILED: dict[int, _Compiled] = {}


def _compile(model: ScoringModel) -> _Compiled:
    cached = _COMPILED.get(id(model))
    if cached is not None and cached.model is model:
        return cached
    weights = {name: dimension.weight for name, dimension in model.dimensions.items()}
    factors = {key: (f.dimension, f.points, weights[f.dimension]) for key, f in model.factors.items()}
    disputed = model.disputed_record_weight
    tokens: dict[str, tuple[str, float, float, bool, str]] = {}
    for key, (dimension, points, weight) in factors.items():
        tokens[key] = (key, points * 1.0, weight, points < 0, dimension)
        tokens[key + _DISPUTED] = (key, points * disputed, weight, points < 0, dimension)
    compiled = _Compiled(
        model=model,
        tokens=tokens,
        factors=factors,
        dimensions=tuple(
            (name, d.max_positive, d.max_negative, bool(d.raise_zh)) for name, d in model.dimensions.items()
        ),
        bands=tuple((band.min_score, band.level) for band in model.bands),
    )
    _COMPILED[id(model)] = compiled
    return compiled


def _part(
    compiled: _Compiled, dimension: tuple[str, int, int, bool], keys: tuple[str, ...], red: int
) -> tuple[int, tuple[Reason, ...]]:
    """One dimension's contribution, capped, and the reasons for it."""
    name, max_positive, max_negative, _ = dimension
    factors, tokens = compiled.factors, compiled.tokens
    raw: dict[str, float] = {}
    counts: dict[str, int] = {}
    for token in keys:  # sorted: the sum is the same whatever order the records came in
        key, points = tokens[token][:2]
        raw[key] = raw.get(key, 0.0) + points
        counts[key] = counts.get(key, 0) + 1
    reasons: list[Reason] = []
    total = 0
    for key in sorted(raw):
        points = round(raw[key] * factors[key][2])
        reasons.append(Reason(key, name, points, counts[key]))
        total += points
    if red:
        _, points_each, weight = factors[RED_LIST]
        points = round(points_each * weight)
        reasons.append(Reason(RED_LIST, name, points, red))
        total += points
    if total > max_positive:
        reasons.append(Reason(f"cap.{name}", name, max_positive - total, 1))
        total = max_positive
    elif total < -max_negative:
        reasons.append(Reason(f"floor.{name}", name, -max_negative - total, 1))
        total = -max_negative
    return total, tuple(reasons)


def _core(compiled: _Compiled, keys: tuple[str, ...], red: int, black: int) -> _Core:
    model, factors, tokens = compiled.model, compiled.factors, compiled.tokens
    grouped: dict[str, list[str]] = {}
    for token in keys:
        grouped.setdefault(tokens[token][4], []).append(token)
    red_dimension = factors[RED_LIST][0]
    contributions: dict[str, int] = {}
    reasons: list[Reason] = []
    for dimension in compiled.dimensions:
        name = dimension[0]
        group = grouped.get(name)
        own_red = red if name == red_dimension else 0
        if group is None and not own_red:
            contributions[name] = 0
            continue
        total, part = compiled.part(dimension, tuple(group or ()), own_red)
        contributions[name] = total
        reasons += part

    unbounded = model.base + sum(contributions.values())
    score = min(model.max_score, max(model.min_score, unbounded))
    if score != unbounded:
        reasons.append(Reason(SCORE_BOUNDS, ADJUSTMENT_DIMENSION, score - unbounded, 1))
        contributions[ADJUSTMENT_DIMENSION] = score - unbounded

    if black:
        lowered = min(0, model.black_list_ceiling - score)
        lists_dimension = factors[BLACK_LIST][0]
        reasons.append(Reason(BLACK_LIST, lists_dimension, lowered, black))
        contributions[lists_dimension] += lowered
        score += lowered
        level = BLACK_LIST_LEVEL
    else:
        level = next(band for floor, band in compiled.bands if score >= floor)

    headroom = sorted(
        (contributions[name] - max_positive, name)
        for name, max_positive, _, hinted in compiled.dimensions
        if hinted and max_positive > contributions[name]
    )
    reasons.sort(key=_sort_key)
    return _Core(
        score=score,
        level=level,
        blocked=bool(black),
        contributions=contributions,
        reasons=tuple(reasons),
        headroom=tuple(Improvement("headroom", name, -gap) for gap, name in headroom[:MAX_HEADROOM_HINTS]),
        contributions_json=orjson.dumps(contributions).decode(),
        reasons_json=orjson.dumps([list(reason) for reason in reasons]).decode(),
    )


def negative_keys(model: ScoringModel) -> frozenset[str]:
    """The factor keys with negative points: the records :func:`compute_counted` needs one by one."""
    return frozenset(key for key, (_, points, _) in _compile(model).factors.items() if points < 0)


def compute(model: ScoringModel, inputs: ScoringInputs, as_of: date) -> ScoreResult:
    tokens = _compile(model).tokens
    keys: list[str] = []
    negative: list[RecordInput] = []
    for record in inputs.records:
        _, key, status, counts_until, _ = record
        if status not in COUNTING_STATUSES or (counts_until is not None and counts_until <= as_of):
            continue
        token = key if status == "active" else key + _DISPUTED
        found = tokens.get(token)
        if found is None:
            raise UnknownFactor(f"model {model.version} has no factor {key!r}")
        keys.append(token)
        if found[3]:
            negative.append(record)
    keys.sort()
    core, improvements = compute_counted(model, tuple(keys), negative, inputs.lists, as_of)
    return ScoreResult(
        model_version=model.version,
        score=core.score,
        level=core.level,
        blocked=core.blocked,
        contributions=dict(core.contributions),
        reasons=core.reasons,
        improvements=improvements,
        _core=core,
    )


def compute_counted(
    model: ScoringModel,
    tokens: tuple[str, ...],
    negative: list[RecordInput],
    lists: tuple[ListInput, ...],
    as_of: date,
) -> tuple[_Core, tuple[Improvement, ...]]:
    """What :func:`compute` gives, from a summary of the inputs made elsewhere (a rebuild, where the
    database makes it): ``tokens``, the sorted factor tokens of the records that count (the key, with
    ``|disputed`` appended for a disputed record); ``negative``, those of them whose key is one of
    :func:`negative_keys`, in any order. Returns the result's shared core (score, level, blocked,
    reasons, their JSON text) and its improvements; :func:`compute` is this plus a :class:`ScoreResult`."""
    compiled = _compile(model)
    table = compiled.tokens
    negatives: list[_Negative] = []
    for record_id, key, status, counts_until, repairable_from in negative:
        found = table.get(key if status == "active" else key + _DISPUTED)
        if found is None:
            raise UnknownFactor(f"model {model.version} has no factor {key!r}")
        negatives.append(
            (
                found[1] * found[2],
                record_id,
                key,
                repairable_from is None,
                repairable_from or date.min,
                counts_until is None,
                counts_until or date.min,
                repairable_from,
                counts_until,
            )
        )
    return _finish(compiled, tokens, negatives, lists, as_of)


def _finish(
    compiled: _Compiled,
    keys: tuple[str, ...],
    negatives: list[_Negative],
    lists: tuple[ListInput, ...],
    as_of: date,
) -> tuple[_Core, tuple[Improvement, ...]]:
    red = 0
    black_entries: list[ListInput] = []
    for entry in lists:
        if list_applies(entry, as_of):
            if entry.list_type == "red":
                red += 1
            elif entry.list_type == "black":
                black_entries.append(entry)
    core = compiled.core((keys, red, len(black_entries)))
    if not black_entries and not negatives:
        return core, core.headroom

    # Sort keys are total, so that the result never depends on the order the inputs came in.
    improvements: list[Improvement] = []
    if black_entries:
        improvements += [
            Improvement("list_end", BLACK_LIST, 0, entry.entry_id, until=entry.ends_on)
            for entry in sorted(black_entries, key=lambda e: (e.entry_id, _day(e.ends_on)))
        ]
    if negatives:
        negatives.sort()
        for weighted, record_id, key, _, _, _, _, repairable_from, counts_until in negatives:
            if repairable_from is not None:
                improvements.append(
                    Improvement("repair", key, -round(weighted), record_id, repairable_from, counts_until)
                )
            elif counts_until is not None:
                improvements.append(
                    Improvement("expiry", key, -round(weighted), record_id, None, counts_until)
                )
    improvements += core.headroom
    return core, tuple(improvements[:MAX_IMPROVEMENTS])
