"""Vendored browser assets are pinned: each file is the one its manifest names (by SHA-256), with its
licence beside it, from the version in its directory's name. Nothing is fetched at run time."""

from __future__ import annotations

import hashlib
import json
import re
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


# An address another origin would be loaded from: imported, fetched, or named by src, href or url(). (An
# address shown as text, such as a form's "https://" placeholder, loads nothing; the CSP and the browser
# tests' watch on outside requests hold the rest.)
LOADS_FROM_ELSEWHERE = re.compile(
    r"""(\bimport\b[^;\n]*|\bfrom\s*|\bfetch\(\s*|\bsrc\s*=\s*|\bhref\s*=\s*|\burl\(\s*)["'`]?(https?:)?//"""
)


def test_the_pages_load_nothing_from_another_origin():
    for path in (ROOT / "app/web").rglob("*"):
        if path.suffix in {".html", ".js", ".css"} and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert LOADS_FROM_ELSEWHERE.search(text) is None and "//cdn" not in text, path


def test_an_address_to_load_from_elsewhere_is_caught():
    for line in (
        '<script src="https://cdn.example/x.js"></script>',
        'import x from "https://esm.sh/x";',
        'fetch("http://example.com/api")',
        "background: url(//fonts.example/f.woff2);",
        '<link href="https://fonts.example/css">',
    ):
        assert LOADS_FROM_ELSEWHERE.search(line), line
    assert LOADS_FROM_ELSEWHERE.search('h("input", { placeholder: "https://" })') is None
