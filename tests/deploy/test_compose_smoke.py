"""scripts/compose-smoke: compose.yaml's services as processes in compose's order (fresh database, Redis
with noeviction, two migrate jobs at once, the API with two workers, the worker), then /readyz, a sign-in
and a pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.deploy.pg import needs_postgresql, server_url

ROOT = Path(__file__).resolve().parents[2]


@needs_postgresql
def test_the_composed_system_starts_in_order_and_a_resident_gets_a_pass() -> None:
    done = subprocess.run(  # noqa: S603 (our own script)
        [str(ROOT / "scripts" / "compose-smoke"), "--database-server", server_url()],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "compose start order: postgres -> redis -> migrate -> api -> worker -> proxy" in lines[0]
    assert "compose-smoke: /readyz 200" in lines
    assert any(line.startswith("compose-smoke: resident signed in, pass pas_") for line in lines)
    assert "compose-smoke: OK" in lines
