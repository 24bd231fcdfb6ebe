"""A rebuild batch, fast: each subject's records read as the database's summary and the new scores
written as COPY text (PostgreSQL), or through the per-subject path (SQLite). The same digests, scores,
reasons and history rows as :func:`app.scoring.service.recompute_many`; the driver that runs the batches is
:mod:`app.scoring.rebuild`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from app.core.bulk import (
    JSONText,
    copy_escaped,
    copy_lines,
    dumps,
    fetch_tuples,
    is_postgresql,
    new_ids,
    update_rows,
)
from app.core.clock import utcnow
from app.scoring import engine, reasons
from app.scoring import service as scoring_service
from app.scoring.engine import ListInput, RecordInput
from app.scoring.inputs import COUNTING, collect_lists, inputs_between
from app.scoring.scoring_model import active_model
from app.scoring.service import (
    HISTORY,
    HISTORY_COLUMNS,
    SCORE_COLUMNS,
    SCORES,
    StoredHeadline,
    digest_of_lines,
    top_reasons,
)
from app.subjects.models import Subject


class Counted(NamedTuple):
    """A subject's inputs as the database summarises them for a rebuild
    (:func:`counted_between`): what :func:`rebuild_many` needs, without a tuple per
    record. Lines and tokens come in any order."""

    # The digest lines (see inputs_digest) of the records that count, "\n"-joined; None: no record counts.
    lines: str | None
    tokens: str | None  # their factor tokens (engine.compute_counted), " "-joined
    negative: str | None  # the lines of those whose key is one of engine.negative_keys, "\n"-joined
    lists: tuple[ListInput, ...]  # the list entries that apply


def _negative_record(line: str) -> RecordInput:
    _, record_id, key, status, until, repairable_from = line.split("|")
    return RecordInput(
        record_id,
        key,
        status,
        None if until == "None" else date.fromisoformat(until),
        None if repairable_from == "None" else date.fromisoformat(repairable_from),
    )


# id(core) -> (the core, then as COPY fields: its contributions, the explanation of a subject whose only
# hints are the core's own, its history top reasons). Thousands of subjects share a core.
_CORE_TEXTS: dict[int, tuple[Any, str, str, str]] = {}


def _core_texts(core: Any) -> tuple[Any, str, str, str]:
    found = _CORE_TEXTS.get(id(core))
    if found is None or found[0] is not core:
        if len(_CORE_TEXTS) > engine.CORE_CACHE_SIZE:
            _CORE_TEXTS.clear()
        found = _CORE_TEXTS[id(core)] = (
            core,
            copy_escaped(core.contributions_json),
            copy_escaped(reasons.explanation_text(core.reasons_json, core.headroom)),
            copy_escaped(dumps(top_reasons(core.reasons))),
        )
    return found


def rebuild_many(
    session: Session,
    counted: Mapping[str, Counted],
    *,
    as_of: date,
    stored: Mapping[str, StoredHeadline],
    trigger: str = "rebuild",
    now: datetime | None = None,
) -> int:
    """:func:`recompute_many` for a rebuild batch on PostgreSQL, from the database's summary of each
    subject's inputs: the same digests, scores, reasons and history rows, with no object per record
    and the new rows written as COPY text. Returns how many scores changed."""
    if not counted:
        return 0
    model = active_model()
    version = model.version
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given to a bulk write")
    # The fields every row of this batch shares, as COPY text (what insert_tuples would make of them).
    tail = f"\t{copy_escaped(version)}"
    score_end = f"\t{now.isoformat()}\t{copy_escaped(trigger)}\n"
    history_end = f"\t{copy_escaped(trigger)}\t{now.isoformat()}\n"
    scores: list[str] = []
    history: list[str] = []  # each row but its id
    changed_rows: list[dict[str, Any]] = []
    compute_counted, digest_of, negative_record = engine.compute_counted, digest_of_lines, _negative_record
    explanation_text, core_texts = reasons.explanation_text, _core_texts
    no_lists: tuple[ListInput, ...] = ()
    for subject_id, (lines, tokens, negative, lists) in counted.items():
        digest = digest_of(version, lines.split("\n") if lines else [], lists, as_of)
        old = stored.get(subject_id)
        if old is not None and old[0] == digest:
            continue
        core, improvements = compute_counted(
            model,
            tuple(sorted(tokens.split(" "))) if tokens else (),
            [negative_record(line) for line in negative.split("\n")] if negative else [],
            lists or no_lists,
            as_of,
        )
        score, level, blocked = core.score, core.level, core.blocked
        _, contributions, own_hints_only, top = core_texts(core)
        if old is None:
            explanation = (
                own_hints_only
                if improvements is core.headroom
                else copy_escaped(explanation_text(core.reasons_json, improvements))
            )
            scores.append(
                f"{subject_id}\t{score}\t{level}\t{'t' if blocked else 'f'}{tail}"
                f"\t{contributions}\t{explanation}\t{digest}{score_end}"
            )
        else:
            row = (
                subject_id,
                score,
                level,
                blocked,
                version,
                JSONText(core.contributions_json),
                JSONText(explanation_text(core.reasons_json, improvements)),
                digest,
                now,
                trigger,
            )
            changed_rows.append(dict(zip(SCORE_COLUMNS, row, strict=True)))
        if old is None or old[1:] != (score, level, blocked, version):
            history.append(
                f"\t{subject_id}\t{score}\t{level}\t{'t' if blocked else 'f'}{tail}\t{top}{history_end}"
            )
    copy_lines(session, SCORES, SCORE_COLUMNS, "".join(scores))
    update_rows(session, SCORES, "subject_id", changed_rows)
    copy_lines(
        session,
        HISTORY,
        HISTORY_COLUMNS,
        "".join([hid + row for hid, row in zip(new_ids("sch", len(history)), history, strict=True)]),
    )
    return len(scores) + len(changed_rows)


# A rebuild's read (PostgreSQL): per subject, the records that count summarised by the database, so that
# no tuple is made per record. ``line`` is the record's line of scoring.service.inputs_digest (a date as
# text is str(date) in the ISO DateStyle, set for the transaction: several times cheaper than to_char),
# ``token`` its engine token (engine.compute_counted).
_COUNTED = """
SELECT subject_id, string_agg(line, E'\\n'), string_agg(token, ' '),
       string_agg(line, E'\\n') FILTER (WHERE negative)
FROM (
    SELECT subject_id,
           'r|' || id || '|' || key || '|' || status
               || '|' || coalesce(counts_until::text, 'None')
               || '|' || coalesce(publicity_min_ends_on::text, 'None') AS line,
           CASE WHEN status = 'active' THEN key ELSE key || '|disputed' END AS token,
           key = ANY(%(negative)s) AS negative
    FROM (
        SELECT subject_id, id, status, counts_until, publicity_min_ends_on,
               category || coalesce('.' || outcome, '') || coalesce('.' || grade, '')
                   || coalesce('.' || severity, '') AS key
        FROM credit_records
        WHERE subject_id BETWEEN %(first)s AND %(last)s
          AND status = ANY(%(counting)s)
          AND (counts_until IS NULL OR counts_until > %(as_of)s)
    ) AS counting_records
) AS summarised
GROUP BY subject_id
"""


def counted_between(session: Session, subject_ids: list[str], as_of: date) -> dict[str, Counted]:
    """PostgreSQL: :func:`inputs_between` as the database's summary of each subject's records
    (:class:`app.scoring.service.Counted`), for :func:`app.scoring.service.rebuild_many`."""
    first, last = subject_ids[0], subject_ids[-1]
    negative = sorted(engine.negative_keys(active_model()))
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute("SET LOCAL datestyle TO 'ISO'")
        cursor.execute(
            _COUNTED,
            {"first": first, "last": last, "as_of": as_of, "negative": negative, "counting": list(COUNTING)},
        )
        records = {row[0]: row for row in cursor.fetchall()}
    lists = collect_lists(session, lambda column: column.between(first, last), as_of)
    counted = Counted
    none = (None, None, None, None)
    result: dict[str, Counted] = {}
    for subject_id in subject_ids:
        _, lines, tokens, negative_lines = records.get(subject_id, none)
        entries = lists.get(subject_id)
        result[subject_id] = counted(lines, tokens, negative_lines, tuple(entries) if entries else ())
    return result


def rescore_range(session: Session, first: str, last: str, *, today: date) -> tuple[int, int]:
    """A parallel rebuild step: lock and rescore the subjects with ids from ``first`` to ``last``.
    Returns (subjects seen, scores changed)."""
    statement = (
        select(col(Subject.id))
        .where(col(Subject.id).between(first, last))
        .order_by(col(Subject.id))
        .with_for_update(key_share=True)
    )
    ids = [row[0] for row in fetch_tuples(session, statement)]
    if not ids:
        return 0, 0
    return len(ids), _rescore_run(session, ids, today)


def _rescore_run(session: Session, ids: list[str], today: date) -> int:
    """Rescore a sorted run of consecutive subject ids whose locks are held; returns how many changed."""
    stored = scoring_service.stored_headlines_between(session, ids[0], ids[-1])
    if is_postgresql(session):
        return rebuild_many(session, counted_between(session, ids, today), as_of=today, stored=stored)
    return scoring_service.recompute_many(
        session, inputs_between(session, ids, today), trigger="rebuild", as_of=today, stored=stored
    )


def rescore_batch(
    session: Session, *, after: str | None, limit: int, today: date
) -> tuple[int, str | None, int]:
    """A rebuild step: lock and rescore the ``limit`` subjects after ``after`` in id order. Returns
    (subjects seen, the last one's id, scores changed)."""
    statement = select(col(Subject.id)).order_by(col(Subject.id)).limit(limit).with_for_update(key_share=True)
    if after is not None:
        statement = statement.where(col(Subject.id) > after)
    ids = list(session.execute(statement).scalars())
    if not ids:
        return 0, None, 0
    return len(ids), ids[-1], _rescore_run(session, ids, today)
