"""What the README promises, checked against the code: every setting has a row in its configuration
table, the pass's QR is offered as the README says, the benchmark history has its own page."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.config import Settings
from app.passes.schemas import QrOut

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    rows = {
        name
        for line in section("Configuration").splitlines()
        if line.startswith("| `XINYI_")
        for name in re.findall(r"`(XINYI_[A-Z0-9_]+)`", line.split(" | ")[0])
    }
    settings = {f"XINYI_{name.upper()}" for name in Settings.model_fields}
    missing = sorted(settings - rows)
    assert not missing, (
        f"README.md, section Configuration: add a table row for {', '.join(missing)} "
        "(a field of app.core.config.Settings): | `XINYI_…` | default | what it does |"
    )
    unknown = sorted(rows - settings)
    assert not unknown, f"README.md, section Configuration: {', '.join(unknown)} is no setting (any more)"


def test_the_pass_is_offered_as_the_readme_says() -> None:
    assert {"svg_data_url", "svg_url", "png_url"} <= set(QrOut.model_fields)
    row = next(line for line in README.splitlines() if line.startswith("| `POST /v1/me/passes` |"))
    assert "SVG data URL" in row and "PNG" in row
    assert "PNG data URL" not in README


def test_the_benchmark_figures_stay_and_their_history_moved() -> None:
    figures = section("Benchmarks")
    assert "| benchmark | figure | target |" in figures
    assert "docs/benchmarks.md" in figures
    history = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "### Verification (`make bench-verify`)" in history
    assert "### Verification (`make bench-verify`)" not in README


def test_the_readme_reads_in_order() -> None:
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    wanted = [
        "Quick start",
        "Demo users",
        "Main calls",
        "Deployment",
        "Configuration",
        "Security",
        "Benchmarks",
    ]
    assert [h for h in headings if h in wanted] == wanted
