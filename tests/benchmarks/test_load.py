"""make bench-verify's load plumbing: wrk with ``passes.lua`` sends each token of its file once, with its
own Idempotency-Key, and a round whose tokens ran out or whose responses were not all the expected one
is reported as failed. Against a local recording server; nothing here is timed."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from benchmarks import load
from benchmarks.native import tokens

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason=load.INSTALL_HINT)


class Recorder:
    """Answers 201 to a token seen for the first time and 409 to a replay, like a single-use check."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: list[str] = []
        self.idempotency_keys: list[str] = []
        self.authorizations: set[str] = set()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        # wrk resets its connections as it stops: no traceback for each
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.answer(200)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with recorder.lock:
                    replay = body["token"] in recorder.tokens
                    recorder.tokens.append(body["token"])
                    recorder.idempotency_keys.append(self.headers.get("Idempotency-Key", ""))
                    recorder.authorizations.add(self.headers.get("Authorization", ""))
                self.answer(409 if replay else 201)

            def answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        return Handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/verifications"

    def received(self, count: int) -> list[str]:
        """The tokens received, once ``count`` have arrived (wrk may stop before the last answers)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.tokens) >= count:
                    return list(self.tokens)
            time.sleep(0.05)
        return list(self.tokens)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def passes(count: int) -> list[str]:
    key = tokens.new_key()
    return [tokens.sign(key, f"sub_{i}", 1_800_000_000) for i in range(count)]


def drive(recorder: Recorder, tokens_file: Path) -> load.Round:
    return load.run(
        recorder.url,
        tokens_file,
        seconds=1,
        connections=4,
        threads=2,
        expect=201,
        scenario="deposit_free_rental",
        idempotency_prefix="r1",
        authorization="Bearer sk_test_plumbing",
    )


def test_each_token_is_sent_once_with_its_own_idempotency_key(recorder: Recorder, tmp_path: Path) -> None:
    issued = passes(200)
    assert len(set(issued)) == 200
    load.write_tokens(tmp_path / "tokens.txt", issued)

    measured = drive(recorder, tmp_path / "tokens.txt")

    received = recorder.received(200)
    assert sorted(received) == sorted(issued)  # every token once: none replayed, none left out
    assert len(set(recorder.idempotency_keys)) == 200
    assert all(key.startswith("r1-") for key in recorder.idempotency_keys)
    assert recorder.authorizations == {"Bearer sk_test_plumbing"}
    # A local server answers 200 tokens in well under the round's second: the threads ran out, and
    # the round says so instead of reporting a rate.
    assert measured.exhausted > 0
    assert measured.unexpected == 0
    assert measured.sent == 200
    assert measured.failure is not None and measured.failure.startswith("ran out of tokens after 200")


def test_a_response_other_than_the_expected_fails_the_round(recorder: Recorder, tmp_path: Path) -> None:
    issued = passes(50)
    # The first thread's second token is a replay of its first: 409
    load.write_tokens(tmp_path / "tokens.txt", [issued[0], issued[1], issued[0], *issued[2:]])

    measured = drive(recorder, tmp_path / "tokens.txt")

    assert recorder.received(51).count(issued[0]) == 2
    assert measured.unexpected == 1
    assert measured.first_unexpected.startswith("409")
    assert measured.sent == 51


def test_a_round_where_every_request_succeeded_has_no_failure() -> None:
    output = (
        'BENCH-RESULT {"requests": 900, "duration_us": 3000000, "p50_us": 20000, "p99_us": 50000, '
        '"sent": 964, "unexpected": 0, "exhausted": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}\n'
        "BENCH-FIRST-UNEXPECTED \n"
    )
    measured = load.parse(output)
    assert measured.failure is None
    assert (measured.rps, measured.p50_ms, measured.p99_ms) == (300.0, 20.0, 50.0)
