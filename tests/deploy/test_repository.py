"""What building the partner kit leaves behind stays out of git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GIT = shutil.which("git")


@pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(), reason="needs a git checkout")
@pytest.mark.parametrize(
    "path",
    ["partners/build/lib/xinyi_partner/cli.py", "partners/xinyi_partner.egg-info/PKG-INFO", "dist/x.whl"],
)
def test_build_output_is_ignored_and_untracked(path: str) -> None:
    assert GIT is not None
    ignored = subprocess.run([GIT, "check-ignore", "--no-index", path], cwd=ROOT, check=False)  # noqa: S603
    assert ignored.returncode == 0, f"{path} is not ignored"
    tracked = subprocess.run(  # noqa: S603 (git, fixed arguments)
        [GIT, "ls-files", "partners/build", "dist", "*.egg-info"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert tracked.stdout == ""
