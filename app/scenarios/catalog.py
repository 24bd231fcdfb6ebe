"""Loading ``scenarios/*.toml`` into a validated, read-only catalog.

Adding a scenario is adding a file. The whole folder is read and checked when the app starts: the first
bad file stops start-up with its path, the field and the reason
(``scenarios/parking.toml: eligibility.min_level: Input should be 'AAA', 'AA', …``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError

from app.scenarios.schemas import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = ROOT / "scenarios"


class ScenarioCatalogError(RuntimeError):
    """A scenario file is missing, unreadable or does not follow the schema."""

    def __init__(self, path: Path, field: str | None, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        where = f"{_display(path)}: {field}" if field else _display(path)
        super().__init__(f"{where}: {reason}")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


class Catalog(Mapping[str, Scenario]):
    """Every scenario by id, in id order."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self._by_id = {s.id: s for s in sorted(scenarios, key=lambda s: s.id)}

    def __getitem__(self, scenario_id: str) -> Scenario:
        return self._by_id[scenario_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)


def load_file(path: Path) -> Scenario:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioCatalogError(path, None, f"cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioCatalogError(path, None, f"is not valid TOML ({exc})") from None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ScenarioCatalogError(path, field, first["msg"]) from None
    if scenario.id != path.stem:
        raise ScenarioCatalogError(path, "id", f"must equal the file name {path.stem!r}")
    return scenario


def load_catalog(directory: Path | None = None) -> Catalog:
    """Every ``*.toml`` in ``directory`` (default: the top-level ``scenarios/`` folder), validated."""
    directory = directory or SCENARIOS_DIR
    if not directory.is_dir():
        raise ScenarioCatalogError(directory, None, "the scenario folder does not exist")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ScenarioCatalogError(directory, None, "holds no scenario (*.toml) file")
    return Catalog([load_file(path) for path in files])


@lru_cache
def default_catalog() -> Catalog:
    """The shipped catalog, for code that runs outside a request (CLI, workers, other domains)."""
    return load_catalog()


async def get_catalog(request: Request) -> Catalog:
    """The catalog the app loaded (and validated) at start-up."""
    catalog: Catalog = request.app.state.scenarios
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
