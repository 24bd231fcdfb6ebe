"""``xinyi-partner`` against a real HTTP server on 127.0.0.1 (real clock: tokens are minted for now)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from partner_testkit import API_KEY, SCENARIO, FakePlatform, new_handle, problem
from xinyi_partner.cli import main
from xinyi_partner.qr import render_qr_png, token_to_qr_digits


@pytest.fixture
def live() -> Iterator[tuple[FakePlatform, str]]:
    platform = FakePlatform(time.time)
    with platform.serve() as base_url:
        yield platform, base_url


def test_verify_offline_by_default(
    live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    platform, base_url = live
    handle = new_handle()
    png = tmp_path / "qr.png"
    render_qr_png(platform.offline_code(handle=handle), png)

    code = main(["verify", str(png), "--base-url", base_url, "--cache-dir", str(tmp_path / "cache")])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"accepted: valid offline code for {SCENARIO}, handle {handle}, expires ")
    assert out.rstrip().endswith("deny list v1")
    assert platform.count("/v1/verifications") == 0


def test_verify_offline_json_and_exit_codes(
    live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    platform, base_url = live
    cache = ["--base-url", base_url, "--cache-dir", str(tmp_path / "cache"), "--json"]
    online_png, other_png = tmp_path / "online.png", tmp_path / "other.png"
    render_qr_png(platform.online_pass(), online_png)
    render_qr_png(platform.offline_code("library"), other_png)

    assert main(["verify", str(online_png), *cache]) == 3
    undecided = json.loads(capsys.readouterr().out)
    assert (undecided["decision"], undecided["code"]) == ("online_required", "online_check_required")

    assert main(["verify", str(other_png), *cache]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert (refused["decision"], refused["code"]) == ("refused", "token_scenario_mismatch")

    assert main(["verify", str(other_png), "--scenario", "library", *cache]) == 0


def test_verify_online(live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    platform, base_url = live
    png = tmp_path / "qr.png"
    token = platform.online_pass()
    render_qr_png(token, png)

    code = main(["verify", str(png), "--online", "--base-url", base_url, "--api-key", API_KEY])

    assert code == 0
    assert capsys.readouterr().out.startswith(
        "eligible (level_meets_minimum) for deposit_free_rental: verification ver_0001"
    )
    (request,) = platform.of("/v1/verifications")
    assert request.json() == {"token": token, "scenario": SCENARIO}


def test_verify_online_problem(
    live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    platform, base_url = live
    platform.verification_answers.append((422, problem(422, "token_replayed", "Token already used"), {}))
    png = tmp_path / "qr.png"
    render_qr_png(platform.online_pass(), png)

    assert main(["verify", str(png), "--online", "--base-url", base_url, "--api-key", API_KEY]) == 4
    assert (
        "422 token_replayed: Token already used (request_id=req_0123456789abcdef01234567)"
        in capsys.readouterr().err
    )


def test_decode_and_unreadable_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    platform = FakePlatform(time.time)
    token = platform.online_pass()
    render_qr_png(token, tmp_path / "qr.png")
    assert main(["decode", str(tmp_path / "qr.png")]) == 0
    assert capsys.readouterr().out.strip() == token
    (tmp_path / "junk.png").write_bytes(b"junk")
    assert main(["decode", str(tmp_path / "junk.png")]) == 2
    assert "qr_unreadable_image" in capsys.readouterr().err


def test_refresh_then_verify_without_network(
    live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    platform, base_url = live
    cache = str(tmp_path / "cache")
    assert main(["refresh", "--base-url", base_url, "--cache-dir", cache]) == 0
    assert capsys.readouterr().out.strip() == f"keys: {platform.signer.kid}; deny list v1, 0 entries"
    png = tmp_path / "qr.png"
    render_qr_png(platform.offline_code(), png)
    before = len(platform.requests)
    assert main(["verify", str(png), "--cache-dir", cache]) == 0  # no --base-url: cache only
    assert len(platform.requests) == before


def test_console_script_is_installed_and_reads_a_token_from_stdin(
    live: tuple[FakePlatform, str], tmp_path: Path
):
    platform, base_url = live
    script = Path(sys.executable).with_name("xinyi-partner")
    assert script.exists()
    digits = token_to_qr_digits(platform.offline_code())
    # The script checks the code on its own clock: the one this process signed it on, also under
    # libfaketime (whose preload the suite takes from the processes it starts; tests/conftest.py).
    env = dict(os.environ)
    same_clock = os.environ.get("XINYI_TEST_SAME_CLOCK_PRELOAD")
    if same_clock:
        env["LD_PRELOAD"] = f"{env.get('LD_PRELOAD', '')} {same_clock}".strip()
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(script), "verify", "-", "--base-url", base_url, "--cache-dir", str(tmp_path / "c")],
        input=digits,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("accepted: ")


def test_an_offline_code_is_recorded_and_refused_the_second_time(
    live: tuple[FakePlatform, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    platform, base_url = live
    png = tmp_path / "qr.png"
    handle = new_handle()
    render_qr_png(platform.offline_code(handle=handle), png)
    args = ["verify", str(png), "--base-url", base_url, "--cache-dir", str(tmp_path / "cache")]

    assert main(args) == 0
    assert capsys.readouterr().out.startswith("accepted: ")
    assert main(args) == 1
    assert capsys.readouterr().out == (
        "refused (token_replayed): This single-use code was already used on this device.\n"
    )
    # the use waits in the device's queue, for `kiosk --sync` to report it
    from xinyi_partner.offline_queue import OfflineQueue

    with OfflineQueue(tmp_path / "cache" / "offline-uses.sqlite3") as queue:
        assert [use.handle for use in queue.pending()] == [handle]


def test_verify_from_an_image_without_the_qr_extra_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # as if `pip install xinyi-partner` without [qr]
    (tmp_path / "qr.png").write_bytes(b"not read")

    assert main(["verify", str(tmp_path / "qr.png"), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: reading a QR image needs the [qr] extra (zxingcpp is not installed): ")
    assert "pip install 'xinyi-partner[qr]'" in err


def test_without_a_base_url_the_cli_says_how_to_set_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("XINYI_BASE_URL", raising=False)
    platform = FakePlatform(time.time)
    png = tmp_path / "qr.png"
    render_qr_png(platform.offline_code(), png)

    assert main(["verify", str(png), "--cache-dir", str(tmp_path / "empty")]) == 3
    err = capsys.readouterr().err
    assert "--base-url URL or the environment variable XINYI_BASE_URL" in err
    assert main(["refresh", "--cache-dir", str(tmp_path / "empty")]) == 2
    assert "export XINYI_BASE_URL=https://" in capsys.readouterr().err
