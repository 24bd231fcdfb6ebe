"""``make bench-scoring``: import and rebuild at city scale on PostgreSQL, against raw COPY.

Generates N subjects × 10 records as a CSV file (valid 身份证号 and 统一社会信用代码, a realistic mix of
categories), then measures in one run, on a freshly created database:

- import: ``xinyi records import FILE`` (validation, subjects created sealed and hashed, records landed
  idempotently, every subject scored) vs the baseline: a raw ``COPY`` of the same file into a plain
  (logged, unindexed) table with the file's columns as text. Target ratio ≤ 4. The same COPY into an
  UNLOGGED table is printed beside it, for reference.
- the landing floor, no Python at all: the rows the import stored, dumped with ``COPY credit_records TO``
  a file and loaded back with ``COPY … FROM`` that file into a table of ``credit_records``' shape, once
  bare and once with its indexes and its foreign key to ``subjects``. Printed as ratios to the same
  baseline: what any import that stores the records the issue asks for (ids, publicity window, status,
  content hash, timestamps) and can find them again (by source id, by subject, by expiry) pays in
  PostgreSQL alone, before parsing, validating or scoring anything. The import's time over the floor with
  the indexes: target ≤ 4.
- rebuild: the score tables are emptied (``TRUNCATE credit_scores, credit_score_history``) so that
  ``xinyi scores rebuild`` scores and writes every subject from scratch; then it runs again with nothing
  changed (every digest matches: a read of all records and scores). Printed for both: subjects/s, peak RSS
  (target ≤ 1 GB), and the ratio of its time to the baseline ``COPY credit_records TO STDOUT`` (target
  ≤ 3; 1M subjects in ≤ 2 minutes on 2 cores), the baseline being the mean of one COPY just before and
  one just after that rebuild.

Then the scheduled jobs' look-ups on the imported database, in one transaction rolled back: an expiry
batch and a retention batch with nothing due (what most daily runs find), and an expiry batch 90 days on
(records due; rescoring included).

Times are wall-clock and include each command's process start-up. ``--skip-import`` reuses the database of
an earlier run of the same N (rebuild only).

Usage: ``python -m benchmarks.bench_scoring [--subjects 1000000] [--database-url postgresql+psycopg://…]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from sqlmodel import Session

from app.core.db import make_engine
from app.core.migrate import upgrade
from app.records import deletion, service
from app.subjects.identifiers import USCC_ALPHABET, id_number_check_char, uscc_check_char
from benchmarks.common import BIN, ROOT, machine, psycopg_url, recreate_database, run_child

COLUMNS = [
    "source_record_id",
    "category",
    "id_number",
    "uscc",
    "severity",
    "outcome",
    "grade",
    "title",
    "decision_date",
    "conduct_end_date",
]
TODAY = date(2026, 11, 26)


def _person_id(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    first17 = f"650{rng.randrange(100, 110):03d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_number_check_char(first17)


def _uscc(rng: random.Random) -> str:
    body = "91650" + f"{rng.randrange(100, 110):03d}" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def _record(rng: random.Random, person: bool) -> tuple[str, str | None, str | None, str | None]:
    """(category, severity, outcome, grade) with a city-like mix: mostly neutral or good, some bad."""
    roll = rng.random()
    if roll < 0.25:
        return "registration", None, None, None
    if roll < 0.40:
        return "administrative_license", None, None, None
    if roll < 0.50:
        return ("volunteer_service" if person else "honour"), None, None, None
    if roll < 0.62:
        return "contract_performance", None, ("fulfilled" if rng.random() < 0.9 else "breached"), None
    if roll < 0.72:
        return "credit_evaluation", None, None, rng.choice("AABBC")
    if roll < 0.80:
        return "credit_commitment", None, ("kept" if rng.random() < 0.95 else "broken"), None
    if roll < 0.92:
        return "administrative_penalty", rng.choice(["minor", "minor", "general", "serious"]), None, None
    if roll < 0.97:
        return "judicial_judgment", rng.choice(["general", "serious"]), None, None
    return "administrative_enforcement", rng.choice(["minor", "general"]), None, None


def generate(path: Path, subjects: int, per_subject: int, seed: int = 20261126) -> int:
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        seen: set[str] = set()
        for n in range(subjects):
            person = rng.random() < 0.9
            while True:
                key = _person_id(rng) if person else _uscc(rng)
                if key not in seen:
                    seen.add(key)
                    break
            for k in range(per_subject):
                category, severity, outcome, grade = _record(rng, person)
                decided = TODAY - timedelta(days=rng.randrange(30, 4 * 365))
                severity = (
                    severity if (category != "contract_performance" or outcome != "breached") else "minor"
                )
                if category == "credit_commitment" and outcome == "broken":
                    severity = "minor"
                conduct_end = decided - timedelta(days=rng.randrange(0, 60)) if severity else None
                writer.writerow(
                    [
                        f"bench-{n}-{k}",
                        category,
                        key if person else "",
                        "" if person else key,
                        severity or "",
                        outcome or "",
                        grade or "",
                        "",
                        decided.isoformat(),
                        conduct_end.isoformat() if conduct_end else "",
                    ]
                )
                rows += 1
    return rows


def _timed_copy_in(conn: psycopg.Connection, path: Path, copy_sql: str) -> float:
    """Seconds to send a file through ``COPY … FROM STDIN`` and commit it."""
    start = time.perf_counter()
    with path.open("rb") as handle, conn.cursor().copy(copy_sql) as copy:
        while block := handle.read(1 << 20):
            copy.write(block)
    conn.commit()
    return time.perf_counter() - start


def raw_copy_in(url: str, path: Path, *, logged: bool = True) -> float:
    kind = "" if logged else "UNLOGGED "
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE {kind}TABLE bench_raw ({', '.join(f'{c} text' for c in COLUMNS)})")
        seconds = _timed_copy_in(conn, path, "COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)")
        conn.execute("DROP TABLE bench_raw")
        conn.commit()
    return seconds


def landing_floor(url: str, workdir: Path) -> tuple[float, float]:
    """Seconds to COPY the stored records back in from a dump: (bare table, with indexes + foreign key)."""
    dump = workdir / "credit_records.copy"
    with psycopg.connect(url) as conn:
        with dump.open("wb") as handle, conn.cursor().copy("COPY credit_records TO STDOUT") as copy:
            for block in copy:
                handle.write(block)
        seconds = []
        for like, foreign_key in (("", False), (" INCLUDING INDEXES", True)):
            conn.execute(f"CREATE TABLE bench_floor (LIKE credit_records{like})")
            if foreign_key:
                conn.execute("ALTER TABLE bench_floor ADD FOREIGN KEY (subject_id) REFERENCES subjects (id)")
            conn.commit()
            seconds.append(_timed_copy_in(conn, dump, "COPY bench_floor FROM STDIN"))
            conn.execute("DROP TABLE bench_floor")
            conn.commit()
    dump.unlink()
    return seconds[0], seconds[1]


def scheduled_jobs(url: str) -> dict[str, float]:
    """Seconds of each scheduled-job batch below on the benchmark's database, each rolled back."""
    engine = make_engine(url)
    timed = {
        "expire_nothing_due": lambda session: service.expire_due(session, TODAY, service.EXPIRE_BATCH),
        "retention_nothing_due": lambda session: deletion.due_for_deletion(session, TODAY, limit=500),
        "expire_due_in_90_days": lambda session: service.expire_due(
            session, TODAY + timedelta(days=90), service.EXPIRE_BATCH
        ),
    }
    seconds = {}
    for name, job in timed.items():
        with Session(engine) as session:
            start = time.perf_counter()
            job(session)
            seconds[name] = round(time.perf_counter() - start, 3)
            session.rollback()
    engine.dispose()
    return seconds


def raw_copy_out(url: str, table: str) -> tuple[float, int]:
    size = 0
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - start, size


def empty_scores(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE credit_scores, credit_score_history")
        conn.execute("UPDATE score_rebuilds SET status = 'abandoned' WHERE status = 'running'")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records-per-subject", type=int, default=10)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/xinyi_bench",
        help="a database this benchmark may drop and create",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--skip-import", action="store_true", help="reuse the database of an earlier run (rebuild only)"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    url, pg_url = args.database_url, psycopg_url(args.database_url)
    env = {"XINYI_DATABASE_URL": url, "XINYI_ENV": "development"}
    xinyi = str(BIN / "xinyi")

    print(f"machine: {machine()}")
    csv_path = args.workdir / f"records-{args.subjects}.csv"
    rows = args.subjects * args.records_per_subject
    results: dict[str, float | int] = {"subjects": args.subjects, "records": rows}
    if not args.skip_import:
        started = time.perf_counter()
        rows = generate(csv_path, args.subjects, args.records_per_subject)
        print(
            f"generated {rows:,} rows for {args.subjects:,} subjects in {time.perf_counter() - started:.1f} s ({csv_path.stat().st_size / 1e6:.0f} MB)"
        )
        recreate_database(url)
        upgrade(url=url)
        copy_in_unlogged = raw_copy_in(pg_url, csv_path, logged=False)
        copy_in = raw_copy_in(pg_url, csv_path)
        imported = run_child(
            [xinyi, "records", "import", str(csv_path), "--source", "bench", "--no-progress"], env
        )
        print(imported.output.strip().splitlines()[-1])
        results.update(
            import_seconds=round(imported.seconds, 2),
            copy_in_seconds=round(copy_in, 2),
            copy_in_unlogged_seconds=round(copy_in_unlogged, 2),
            import_ratio=round(imported.seconds / copy_in, 2),
            import_rows_per_second=round(rows / imported.seconds),
            import_peak_rss_mb=round(imported.peak_rss_mb),
        )
        print(
            f"import : {rows:,} rows in {imported.seconds:.1f} s = {rows / imported.seconds:,.0f} rows/s, peak RSS {imported.peak_rss_mb:.0f} MB"
        )
        print(
            f"         vs raw COPY of the file {copy_in:.1f} s -> ratio {results['import_ratio']} (target ≤ 4); "
            f"into an UNLOGGED table {copy_in_unlogged:.1f} s -> {imported.seconds / copy_in_unlogged:.1f}"
        )
        bare, indexed = landing_floor(pg_url, args.workdir)
        results.update(
            floor_bare_seconds=round(bare, 2),
            floor_bare_ratio=round(bare / copy_in, 2),
            floor_indexed_seconds=round(indexed, 2),
            floor_indexed_ratio=round(indexed / copy_in, 2),
        )
        print(
            f"landing floor (PostgreSQL alone): the stored rows COPYed back in {bare:.1f} s -> ratio "
            f"{results['floor_bare_ratio']}; with credit_records' indexes and foreign key {indexed:.1f} s -> "
            f"ratio {results['floor_indexed_ratio']}"
        )
        results.update(import_floor_ratio=round(imported.seconds / indexed, 2))
        print(
            f"         import vs that landing floor (indexes and foreign key): ratio "
            f"{results['import_floor_ratio']} (target ≤ 4)"
        )

    empty_scores(pg_url)
    copy_before, size = raw_copy_out(pg_url, "credit_records")
    results.update(copy_out_mb=round(size / 1e6))
    for name, label in (("rebuild", "from scratch"), ("rebuild_unchanged", "nothing changed")):
        rebuilt = run_child([xinyi, "scores", "rebuild", "--restart", "--no-progress"], env)
        # The baseline just before and just after this rebuild: the box's load changes within seconds.
        copy_after, _ = raw_copy_out(pg_url, "credit_records")
        copy_out = (copy_before + copy_after) / 2
        print(rebuilt.output.strip().splitlines()[-1])
        results.update(
            {
                f"{name}_seconds": round(rebuilt.seconds, 2),
                f"{name}_copy_out_seconds": round(copy_out, 2),
                f"{name}_subjects_per_second": round(args.subjects / rebuilt.seconds),
                f"{name}_peak_rss_mb": round(rebuilt.peak_rss_mb),
                f"{name}_ratio": round(rebuilt.seconds / copy_out, 2),
            }
        )
        print(
            f"rebuild ({label}): {args.subjects:,} subjects in {rebuilt.seconds:.1f} s = {args.subjects / rebuilt.seconds:,.0f} subjects/s, peak RSS {rebuilt.peak_rss_mb:.0f} MB (target ≤ 1024)"
        )
        print(
            f"         vs COPY credit_records TO STDOUT {copy_out:.1f} s ({copy_before:.1f} s before, {copy_after:.1f} s after; {size / 1e6:.0f} MB) -> ratio {results[f'{name}_ratio']} (target ≤ 3)"
        )
        copy_before = copy_after
    jobs = scheduled_jobs(url)
    results.update(jobs)
    print(
        "scheduled jobs, one batch each: expire with nothing due {expire_nothing_due} s, retention with "
        "nothing due {retention_nothing_due} s, expire 90 days on {expire_due_in_90_days} s".format(**jobs)
    )
    (args.workdir / "scoring.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
