"""Scores: compute with the active model, store with history, read, and account for operator reads.

Scoring knows nothing of where its inputs come from: the caller (``app.records``) builds a
:class:`~app.scoring.engine.ScoringInputs` per subject, holds the subject's lock, and hands them to
:func:`recompute_many` in the same transaction as the change that made them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, SQLModel, select

from app.core.bulk import (
    JSONText,
    fetch_tuples,
    in_chunks,
    insert_tuples,
    new_ids,
    one_of,
    update_rows,
)
from app.core.clock import business_date, utcnow
from app.core.principal import Principal
from app.scoring import engine, reasons
from app.scoring.engine import ListInput, ScoreResult, ScoringInputs
from app.scoring.models import CreditScore, ScoreHistory
from app.scoring.scoring_model import BLACK_LIST, ScoringModel, active_model, get_model
from app.subjects.models import Subject

if TYPE_CHECKING:
    from app.core.pagination import PageParams

SCORES: Table = SQLModel.metadata.tables[str(CreditScore.__tablename__)]
HISTORY: Table = SQLModel.metadata.tables[str(ScoreHistory.__tablename__)]


@dataclass(frozen=True)
class StoredScore:
    subject_id: str
    result: ScoreResult
    computed_at: datetime
    # False when the subject has never been scored (no record ever reached it): the model's verdict on
    # an empty file, computed on the fly and not stored.
    stored: bool


def compute(inputs: ScoringInputs, as_of: date, model: ScoringModel | None = None) -> ScoreResult:
    return engine.compute(model or active_model(), inputs, as_of)


_DAY_TEXT: dict[date | None, str] = {}  # str(day), made once per day: a rebuild formats millions


def _day_text(day: date | None) -> str:
    text = _DAY_TEXT.get(day)
    if text is None:
        if len(_DAY_TEXT) > 100_000:
            _DAY_TEXT.clear()
        text = _DAY_TEXT[day] = str(day)
    return text


def inputs_digest(version: str, inputs: ScoringInputs, as_of: date) -> str:
    """What a score depends on: the model, the engine, and the records and list entries that count on
    ``as_of``. Equal digests mean an equal score, so a rescore that finds the digest unchanged skips
    computing and writing altogether (a rebuild with nothing new is a read)."""
    counting = engine.COUNTING_STATUSES
    # A rebuild has the database make these lines (scoring.rebuild_batch.counted_between): keep both alike.
    records = [
        f"r|{record_id}|{key}|{status}|{_day_text(until)}|{_day_text(repairable_from)}"
        for record_id, key, status, until, repairable_from in inputs.records
        if status in counting and (until is None or until > as_of)
    ]
    return digest_of_lines(version, records, inputs.lists, as_of)


def digest_of_lines(version: str, records: list[str], lists: tuple[ListInput, ...], as_of: date) -> str:
    """The digest of the record lines ``records`` (any order) and the list entries ``lists``."""
    records.sort()
    parts = [version, engine.ENGINE_REVISION, *records]
    if lists:
        parts += sorted(
            f"l|{e.entry_id}|{e.list_type}|{e.ends_on}" for e in lists if engine.list_applies(e, as_of)
        )
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


StoredHeadline = tuple[str, int, str, bool, str]  # digest, score, level, blocked, model version
_HEADLINE_COLUMNS = (
    SCORES.c.subject_id,
    SCORES.c.digest,
    SCORES.c.score,
    SCORES.c.level,
    SCORES.c.blocked,
    SCORES.c.model_version,
)


def _stored_headlines(session: Session, subject_ids: list[str]) -> dict[str, StoredHeadline]:
    found: dict[str, StoredHeadline] = {}
    for chunk in in_chunks(session, subject_ids):
        statement = sa_select(*_HEADLINE_COLUMNS).where(one_of(session, SCORES.c.subject_id, chunk))
        for sid, digest, score, level, blocked, version in fetch_tuples(session, statement):
            found[sid] = (digest, score, level, bool(blocked), version)
    return found


def stored_headlines_between(session: Session, first: str, last: str) -> dict[str, StoredHeadline]:
    """What :func:`recompute_many` compares against, for the subjects with ids from ``first`` to
    ``last``: one range scan (a rebuild batch)."""
    statement = sa_select(*_HEADLINE_COLUMNS).where(SCORES.c.subject_id.between(first, last))
    return {
        sid: (digest, score, level, bool(blocked), version)
        for sid, digest, score, level, blocked, version in fetch_tuples(session, statement)
    }


SCORE_COLUMNS = (
    "subject_id",
    "score",
    "level",
    "blocked",
    "model_version",
    "contributions",
    "explanation",
    "digest",
    "computed_at",
    "trigger",
)
HISTORY_COLUMNS = (
    "id",
    "subject_id",
    "score",
    "level",
    "blocked",
    "model_version",
    "top_reasons",
    "trigger",
    "computed_at",
)


def recompute_many(
    session: Session,
    inputs: Mapping[str, ScoringInputs],
    *,
    trigger: str,
    as_of: date,
    now: datetime | None = None,
    stored: Mapping[str, StoredHeadline] | None = None,
) -> int:
    """Score each subject whose inputs changed and store the result; returns how many scores changed.

    The caller holds the subjects' locks (``scoring.inputs.lock_subjects``) so that two
    transactions changing one subject's records cannot both store a score computed without the other's
    change. ``stored``: the subjects' stored headlines if the caller read them already
    (:func:`stored_headlines_between` for a rebuild batch)."""
    if not inputs:
        return 0
    model = active_model()
    existing = _stored_headlines(session, sorted(inputs)) if stored is None else stored
    now = now or utcnow()
    new_rows: list[tuple[Any, ...]] = []
    changed_rows: list[dict[str, Any]] = []
    history_rows: list[list[Any]] = []
    version = model.version
    compute_one = engine.compute
    for subject_id, subject_inputs in inputs.items():
        digest = inputs_digest(version, subject_inputs, as_of)
        old = existing.get(subject_id)
        if old is not None and old[0] == digest:
            continue
        result = compute_one(model, subject_inputs, as_of)
        score, level, blocked = result.score, result.level, result.blocked
        row = (
            subject_id,
            score,
            level,
            blocked,
            version,
            JSONText(result.contributions_json()),
            JSONText(result.explanation_json()),
            digest,
            now,
            trigger,
        )
        if old is None:
            new_rows.append(row)
        else:
            changed_rows.append(dict(zip(SCORE_COLUMNS, row, strict=True)))
        if old is None or old[1:] != (score, level, blocked, version):
            top = top_reasons(result.reasons)
            history_rows.append([None, subject_id, score, level, blocked, version, top, trigger, now])
    for history_row, history_id in zip(history_rows, new_ids("sch", len(history_rows)), strict=True):
        history_row[0] = history_id
    insert_tuples(session, SCORES, SCORE_COLUMNS, new_rows)
    update_rows(session, SCORES, "subject_id", changed_rows)
    insert_tuples(session, HISTORY, HISTORY_COLUMNS, history_rows)
    return len(new_rows) + len(changed_rows)


def top_reasons(given: tuple[reasons.Reason, ...]) -> list[str]:
    """The reason codes a history row keeps: the first three that moved the score, or the black list."""
    return [r.code for r in given if r.points or r.code == BLACK_LIST][:3]


def recompute(
    session: Session, subject_id: str, inputs: ScoringInputs, *, trigger: str, as_of: date
) -> ScoreResult:
    """One subject (its lock held by the caller); returns its current result."""
    recompute_many(session, {subject_id: inputs}, trigger=trigger, as_of=as_of)
    return engine.compute(active_model(), inputs, as_of)


# --- reading ------------------------------------------------------------------------------------------


def _result_of(row: CreditScore) -> ScoreResult:
    return ScoreResult(
        model_version=row.model_version,
        score=row.score,
        level=row.level,
        blocked=row.blocked,
        contributions=dict(row.contributions),
        reasons=tuple(reasons.reasons_from_json(row.explanation)),
        improvements=tuple(reasons.improvements_from_json(row.explanation)),
    )


def stored_score(session: Session, subject_id: str) -> StoredScore | None:
    # Scores are written in bulk, past the ORM: always read the row as it is now.
    row = session.exec(
        select(CreditScore)
        .where(CreditScore.subject_id == subject_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    return StoredScore(subject_id, _result_of(row), row.computed_at, stored=True)


def current_score(session: Session, subject_id: str, as_of: date | None = None) -> StoredScore:
    found = stored_score(session, subject_id)
    if found is not None:
        return found
    now = utcnow()
    result = compute(ScoringInputs(), as_of or business_date(now))
    return StoredScore(subject_id, result, now, stored=False)


@dataclass(frozen=True)
class Headline:
    """What a decision reads of the current score: the level, the block, the reason codes."""

    level: str
    blocked: bool
    reason_codes: frozenset[str]


@lru_cache(maxsize=4)
def _unscored_headline(as_of: date, model_version: str) -> Headline:
    result = compute(ScoringInputs(), as_of, get_model(model_version))
    return Headline(result.level, result.blocked, frozenset(reason.code for reason in result.reasons))


# Built once: every verification runs it (app.core.db).
_HEADLINE = sa_select(SCORES.c.level, SCORES.c.blocked, SCORES.c.explanation).where(
    SCORES.c.subject_id == bindparam("subject_id")
)


def headline(session: Session, subject_id: str, as_of: date | None = None) -> Headline:
    """The subject's current score as a decision reads it (as :func:`current_score` reads it)."""
    row = session.execute(_HEADLINE, {"subject_id": subject_id}).first()
    if row is None:  # never scored: the model's verdict on an empty file, as current_score gives it
        return _unscored_headline(as_of or business_date(utcnow()), active_model().version)
    codes = frozenset(reason.code for reason in reasons.reasons_from_json(row.explanation))
    return Headline(row.level, bool(row.blocked), codes)


def history(session: Session, subject_id: str, params: PageParams) -> tuple[list[ScoreHistory], bool]:
    from app.core.pagination import fetch_page  # the API's (as are the imports below): FastAPI

    statement = select(ScoreHistory).where(ScoreHistory.subject_id == subject_id)
    return fetch_page(session, statement, cast(InstrumentedAttribute[str], ScoreHistory.id), params)


def read_for_operator(
    session: Session, actor: Principal, subject_id: str, *, purpose: str, legal_basis: str
) -> StoredScore:
    """Any subject's score, for staff. The read is written to the subject's audit chain first."""
    from app.audit import service as audit_service
    from app.core.errors import InvalidInput, NotFound

    if len(purpose.strip()) < 4:
        raise InvalidInput("purpose: say why you read this score.", code="purpose_required", param="purpose")
    if session.get(Subject, subject_id) is None:
        raise NotFound("No subject with this id.", code="subject_not_found", param="subject_id")
    found = current_score(session, subject_id)
    details = {"model_version": found.result.model_version, "stored": found.stored}
    audit_service.Grounds(purpose, legal_basis).record(
        session, actor, "score.read", details, subject_id=subject_id
    )
    return found


def model_for(result: ScoreResult) -> ScoringModel:
    return get_model(result.model_version)


# --- rebuilds -----------------------------------------------------------------------------------------


def forget_reason_codes(session: Session, subject_id: str, codes: set[str]) -> int:
    """Drop reason codes from a subject's score history (retention: the records behind them were deleted
    and nothing else of the subject has that kind). Returns how many history rows changed."""
    if not codes:
        return 0
    changed = 0
    for row in session.exec(select(ScoreHistory).where(ScoreHistory.subject_id == subject_id)).all():
        kept = [code for code in row.top_reasons if code not in codes]
        if kept != list(row.top_reasons):
            row.top_reasons = kept
            session.add(row)
            changed += 1
    session.flush()
    return changed
