"""Vendored browser assets are pinned: each file is the one its manifest names (by SHA-256), with its
licence beside it, from the version in its directory's name. Nothing is fetched at run time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = [ROOT / "app/web/static/vendor/vendored.json", ROOT / "tests/browser/vendor/vendored.json"]


def entries() -> list[tuple[Path, dict[str, object]]]:
    return [(m.parent, e) for m in MANIFESTS for e in json.loads(m.read_text(encoding="utf-8"))]


@pytest.mark.parametrize(
    ("root", "entry"), entries(), ids=lambda v: v["package"] if isinstance(v, dict) else ""
)
def test_a_vendored_package_is_the_pinned_version_with_its_licence(root: Path, entry: dict[str, object]):
    directory = root / str(entry["directory"])
    assert entry["directory"] == f"{entry['package']}-{entry['version']}"
    assert entry["obtained_with"] == f"npm pack {entry['package']}@{entry['version']}"
    files = entry["files"]
    assert isinstance(files, dict) and "LICENSE" in files
    on_disk = {p.name for p in directory.iterdir()}
    assert on_disk == set(files), "every vendored file is in the manifest, and only those"
    for name, meta in files.items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == meta["sha256"], name


def test_the_pages_load_nothing_from_another_origin():
    for path in (ROOT / "app/web").rglob("*"):
        if path.suffix in {".html", ".js", ".css"} and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
