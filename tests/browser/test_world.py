"""The world that ``make screens`` and ``make bench-web`` stand up is accepted by the settings' checks for
a non-development environment (it once lacked the audit keys, and both commands failed at start)."""

from __future__ import annotations

from pathlib import Path

from tests.browser.world import settings_in


def test_the_scenes_settings_pass_the_start_up_checks(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    assert settings.env == "test"
    assert settings.database_url == f"sqlite:///{tmp_path / 'web.db'}"
