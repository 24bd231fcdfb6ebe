"""One clock: every "now" comes from app.core.clock; outside production it can be moved, in production not."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from app.core import clock
from app.core.config import Settings
from tests.clock import PINNED, TODAY

APP = Path(__file__).resolve().parents[2] / "app"
# A business "now" read anywhere but the clock. time.monotonic() (durations) and ids' time_ns are fine.
WALL_CLOCK = re.compile(r"datetime\.(now|utcnow|today)\(|date\.today\(|time\.time\(\)")


def test_no_module_reads_the_wall_clock_for_itself() -> None:
    offenders = [
        f"{path.relative_to(APP.parent)}:{number}: {line.strip()}"
        for path in sorted(APP.rglob("*.py"))
        if path != APP / "core" / "clock.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_the_suite_runs_at_the_pinned_instant_and_the_business_date_is_chinas() -> None:
    assert PINNED <= clock.utcnow() < PINNED + timedelta(minutes=5)
    assert clock.business_date() == TODAY == date(2026, 11, 26)
    assert clock.business_date(datetime(2026, 11, 26, 15, 59, tzinfo=UTC)) == date(2026, 11, 26)
    assert clock.business_date(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+8d", timedelta(days=8)),
        ("-2h", timedelta(hours=-2)),
        ("+1d12h", timedelta(days=1, hours=12)),
        ("+2w90s", timedelta(weeks=2, seconds=90)),
    ],
)
def test_offsets_are_read_as_signed_sums(text: str, delta: timedelta) -> None:
    assert clock.parse_offset(text) == delta


@pytest.mark.parametrize("text", ["8d", "+", "+8x", "+d", "tomorrow", "+8d-1h"])
def test_an_offset_not_understood_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(clock.ClockOverrideRefused, match=r"e\.g\. \+8d, -2h, \+1d12h"):
        clock.parse_offset(text)


def test_an_offset_moves_every_now_and_the_business_date(
    pinned_clock: time_machine.TimeMachineFixture,
) -> None:
    pinned_clock.move_to(PINNED, tick=False)
    clock.configure("staging", offset="+8d")
    assert clock.utcnow() == PINNED + timedelta(days=8)
    assert clock.business_date() == TODAY + timedelta(days=8)
    assert clock.timestamp() == int((PINNED + timedelta(days=8)).timestamp())
    clock.configure("staging")
    assert clock.utcnow() == PINNED


def test_an_instant_starts_the_clock_there_and_it_runs_on(
    pinned_clock: time_machine.TimeMachineFixture,
) -> None:
    pinned_clock.move_to(PINNED, tick=False)
    clock.configure("development", at="2026-12-20T10:00+08:00")
    assert clock.utcnow() == datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    pinned_clock.shift(timedelta(seconds=30))
    assert clock.utcnow() == datetime(2026, 12, 20, 2, 0, 30, tzinfo=UTC)


def test_an_instant_without_its_utc_offset_is_refused() -> None:
    with pytest.raises(clock.ClockOverrideRefused, match=r"needs its UTC offset, e\.g\. \+08:00"):
        clock.configure("development", at="2026-12-20T10:00")
    assert clock.offset() == timedelta(0)


@pytest.mark.parametrize("override", [{"clock_offset": "+8d"}, {"clock_at": "2026-12-20T10:00+08:00"}])
def test_production_refuses_to_start_with_any_clock_override(override: dict[str, str]) -> None:
    with pytest.raises(clock.ClockOverrideRefused, match="refusing to start: a clock override"):
        Settings(_env_file=None, env="production", **override)  # type: ignore[call-arg]
    with pytest.raises(clock.ClockOverrideRefused, match="refusing to start: a clock override"):
        clock.configure("production", offset="+1s")
    assert clock.offset() == timedelta(0)


def test_the_worker_refuses_as_of_in_production_with_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.commands import app
    from app.core.config import get_settings

    strong = {
        "XINYI_ENV": "production",
        "XINYI_SECRET_KEY": "s" * 40,
        "XINYI_ID_ENCRYPTION_KEYS": '{"p1": "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHA="}',
        "XINYI_ID_ENCRYPTION_ACTIVE_KID": "p1",
        "XINYI_ID_HASH_KEY": "h" * 32,
        "XINYI_AUDIT_HMAC_KEYS": '{"a1": "' + "a" * 40 + '"}',
        "XINYI_AUDIT_HMAC_ACTIVE_KID": "a1",
    }
    for name, value in strong.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["worker", "--once", "--as-of", "2026-12-20T10:00+08:00"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to start: a clock override" in result.output
    assert clock.offset() == timedelta(0)
