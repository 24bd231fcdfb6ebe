"""The import file's format, written once for ``xinyi records import --help`` and checked against the
README (tests/records): the columns come from the validator and the categories from the catalog, so
the text cannot drift from what the importer accepts."""

from __future__ import annotations

from app.records.catalog import CATEGORIES

_RECORDS = [c for c in CATEGORIES.values() if c.list_type is None]
_DISHONEST = ", ".join(c.code for c in _RECORDS if c.dishonest)
_OUTCOMES = "; ".join(f"{c.code}: {' | '.join(c.outcomes)}" for c in _RECORDS if c.outcomes)
_GRADES = "; ".join(f"{c.code}: {' | '.join(c.grades)}" for c in _RECORDS if c.grades)
_LISTS = ", ".join(c.code for c in CATEGORIES.values() if c.list_type is not None)

# (column, what it holds). Every name in app.records.validation.FIELDS, in reading order.
COLUMNS: list[tuple[str, str]] = [
    ("source_record_id", "required, text ≤ 128: your own id of the row; importing it again updates it"),
    ("category", f"required: {', '.join(CATEGORIES)}"),
    ("id_number", "the person's 18-character 身份证号 (give exactly one of id_number, uscc, subject_id)"),
    ("uscc", "the enterprise's 统一社会信用代码 (18 characters)"),
    ("subject_id", "a subject already on the platform (sub_…)"),
    ("decision_date", "records: required, YYYY-MM-DD, not after today"),
    ("conduct_end_date", "records: YYYY-MM-DD, when the conduct ended (retention counts from it)"),
    ("severity", f"minor | general | serious: required on 失信 records ({_DISHONEST}, and failed outcomes)"),
    ("outcome", f"required where the category has one: {_OUTCOMES}"),
    ("grade", f"required where the category has one: {_GRADES}"),
    ("title", "text ≤ 200"),
    ("legal_basis", "text ≤ 500; required on list entries"),
    ("start_date", f"list entries ({_LISTS}) only: required, YYYY-MM-DD"),
    ("end_date", "list entries only: YYYY-MM-DD, may be in the future; empty: open-ended"),
]

EXAMPLE_CSV = """source_record_id,category,uscc,id_number,severity,decision_date,title,legal_basis,start_date
amr-0001,administrative_penalty,91650100MA77R2E5XL,,general,2026-03-02,未按期公示年度报告,,
amr-0002,administrative_license,91650100MA77R2E5XL,,,2026-01-15,食品经营许可,,
amr-0003,black_list,,650102198506120030,,,,《失信被执行人名单管理规定》第一条,2026-02-01"""

HELP = "\n\n".join(
    [
        "\b\nFile format: CSV with a header line naming the columns (any order; UTF-8, or --encoding gbk), "
        "or JSON Lines (.jsonl: one object per line, the same names). Empty cells are absent values. "
        "Each row is a credit record, or a red/black list entry (category black_list or red_list).",
        "\b\n" + "\n".join(f"  {name:<17} {text}" for name, text in COLUMNS),
        "\b\nExample (CSV):\n" + "\n".join(f"  {line}" for line in EXAMPLE_CSV.splitlines()),
    ]
)
