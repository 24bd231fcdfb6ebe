"""``make bench-scoring``: import and rebuild at city scale on PostgreSQL, against raw COPY.

Generates N subjects × 10 records as a CSV file (valid 身份证号 and 统一社会信用代码, a realistic mix of
categories), then measures in one run, on a freshly created database:

- import: ``xinyi records import FILE`` vs a raw ``COPY`` of the same file into an unindexed text table
  (target ratio ≤ 4);
- rebuild: ``xinyi scores rebuild`` — subjects/s, peak RSS (target ≤ 1 GB), and the ratio of its time to
  ``COPY credit_records TO STDOUT`` (target ≤ 3; 1M subjects in ≤ 2 minutes on 2 cores).

Usage: ``python benchmarks/bench_scoring.py [--subjects 1000000] [--database-url postgresql+psycopg://…]``.
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

from app.core.migrate import upgrade
from app.core.validators import USCC_ALPHABET, id_number_check_char, uscc_check_char
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


def raw_copy_in(url: str, path: Path) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE bench_raw ({', '.join(f'{c} text' for c in COLUMNS)})")
        start = time.perf_counter()
        with (
            path.open("rb") as handle,
            conn.cursor().copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bench_raw")
        conn.commit()
    return seconds


def raw_copy_out(url: str, table: str) -> tuple[float, int]:
    size = 0
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        return time.perf_counter() - start, size


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
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    url, pg_url = args.database_url, psycopg_url(args.database_url)
    env = {"XINYI_DATABASE_URL": url, "XINYI_ENV": "development"}

    print(f"machine: {machine()}")
    csv_path = args.workdir / f"records-{args.subjects}.csv"
    started = time.perf_counter()
    rows = generate(csv_path, args.subjects, args.records_per_subject)
    print(
        f"generated {rows:,} rows for {args.subjects:,} subjects in {time.perf_counter() - started:.1f} s ({csv_path.stat().st_size / 1e6:.0f} MB)"
    )

    recreate_database(url)
    upgrade(url=url)
    copy_in = raw_copy_in(pg_url, csv_path)
    imported = run_child(
        [str(BIN / "xinyi"), "records", "import", str(csv_path), "--source", "bench", "--no-progress"], env
    )
    print(imported.output.strip().splitlines()[-1])
    copy_out, size = raw_copy_out(pg_url, "credit_records")
    rebuilt = run_child([str(BIN / "xinyi"), "scores", "rebuild", "--restart", "--no-progress"], env)
    print(rebuilt.output.strip().splitlines()[-1])

    results = {
        "subjects": args.subjects,
        "records": rows,
        "import_seconds": round(imported.seconds, 2),
        "copy_in_seconds": round(copy_in, 2),
        "import_ratio": round(imported.seconds / copy_in, 2),
        "import_peak_rss_mb": round(imported.peak_rss_mb),
        "rebuild_seconds": round(rebuilt.seconds, 2),
        "rebuild_subjects_per_second": round(args.subjects / rebuilt.seconds),
        "rebuild_peak_rss_mb": round(rebuilt.peak_rss_mb),
        "copy_out_seconds": round(copy_out, 2),
        "copy_out_mb": round(size / 1e6),
        "rebuild_ratio": round(rebuilt.seconds / copy_out, 2),
    }
    print()
    print(
        f"import : {rows:,} rows in {imported.seconds:.1f} s vs raw COPY {copy_in:.1f} s -> ratio {results['import_ratio']} (target ≤ 4), peak RSS {imported.peak_rss_mb:.0f} MB"
    )
    print(
        f"rebuild: {args.subjects:,} subjects in {rebuilt.seconds:.1f} s = {results['rebuild_subjects_per_second']:,} subjects/s, peak RSS {rebuilt.peak_rss_mb:.0f} MB (target ≤ 1024)"
    )
    print(
        f"         vs COPY credit_records TO STDOUT {copy_out:.1f} s -> ratio {results['rebuild_ratio']} (target ≤ 3)"
    )
    (args.workdir / "scoring.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
