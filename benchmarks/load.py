"""The load generator of ``make bench-verify``: wrk (C, Debian's package) with ``passes.lua``, and the CPU
time a server process spent, read from ``/proc``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

SCRIPT = Path(__file__).with_name("passes.lua")
INSTALL_HINT = "apt-get install wrk  (Debian's package: the C load generator wrk 4.x)"


def wrk_executable() -> str:
    """wrk's path, or stop with how to install it: the benchmark measures with nothing else."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(f"make bench-verify needs wrk on the PATH: {INSTALL_HINT}")
    return found


def wrk_version() -> str:
    """E.g. ``wrk debian/4.1.0-3+b2``; stops the benchmark when wrk is missing."""
    done = subprocess.run([wrk_executable(), "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.split(" [")[0]


@dataclass(frozen=True)
class Round:
    """One wrk run against one server, with the server's CPU time over it."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    sent: int
    unexpected: int  # responses whose status was not the expected one
    exhausted: int  # threads' calls for a token after their last one
    socket_errors: int  # connect, read, write and timeout errors
    first_unexpected: str
    server_cpu_seconds: float | None = None

    @property
    def failure(self) -> str | None:
        """Why the round's figures are not the service's, or None when every request succeeded."""
        if self.exhausted:
            return f"ran out of tokens after {self.sent} (issue more: BENCH_HEADROOM)"
        if self.unexpected:
            return f"{self.unexpected} unexpected responses, the first: {self.first_unexpected[:200]}"
        if self.socket_errors:
            return f"{self.socket_errors} socket errors or timeouts"
        if not self.requests:
            return "no request completed"
        return None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds * 1000 / self.requests


def parse(output: str) -> Round:
    """The BENCH-RESULT and BENCH-FIRST-UNEXPECTED lines ``passes.lua`` prints when wrk is done."""
    result: dict[str, float] | None = None
    first = ""
    for line in output.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line.removeprefix("BENCH-RESULT "))
        elif line.startswith("BENCH-FIRST-UNEXPECTED"):
            first = line.removeprefix("BENCH-FIRST-UNEXPECTED").strip()
    if result is None:
        raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")
    return Round(
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        sent=int(result["sent"]),
        unexpected=int(result["unexpected"]),
        exhausted=int(result["exhausted"]),
        socket_errors=int(sum(result[k] for k in ("connect", "read", "write", "timeout"))),
        first_unexpected=first,
    )


def write_tokens(path: Path, tokens: list[str]) -> None:
    path.write_text("".join(f"{token}\n" for token in tokens))


def run(
    url: str,
    tokens_file: Path,
    *,
    seconds: float,
    connections: int,
    threads: int,
    expect: int,
    scenario: str,
    idempotency_prefix: str | None = None,
    authorization: str | None = None,
    server_pid: int | None = None,
) -> Round:
    """wrk against ``url`` for ``seconds``, each request a token of ``tokens_file``; with ``server_pid``,
    also that process's CPU time over the run."""
    argv = [
        wrk_executable(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds:.0f}s",
        "--timeout=30s",
        f"--script={SCRIPT}",
        url,
        "--",
        str(tokens_file),
        str(threads),
        str(expect),
        scenario,
        idempotency_prefix or "-",
    ]
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization or ""}
    before = cpu_seconds(server_pid) if server_pid else None
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)  # noqa: S603
    after = cpu_seconds(server_pid) if server_pid else None
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    measured = parse(done.stdout)
    if before is None or after is None:
        return measured
    return replace(measured, server_cpu_seconds=after - before)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``); None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the "(name)", which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
