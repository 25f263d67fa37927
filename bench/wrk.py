"""Running wrk and reading its report: requests per second, the latency distribution, result codes.

wrk prints ``Requests/sec``, and with ``--latency`` the 50/75/90/99th
percentiles; the Lua scripts in ``bench/wrk/`` add one ``RESULT`` line that
counts the envelope's result codes (0, 1018, other) and non-200 answers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"
POST_SCRIPT = WRK_DIR / "post.lua"
PAIR_SCRIPT = WRK_DIR / "pair.lua"

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$")
_TOTAL = re.compile(r"^\s*(\d+) requests in (\S+?),")
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RESULT_FIELD = re.compile(r"(\w+)=([\d.]+)")


class WrkError(RuntimeError):
    """wrk could not run, or printed something this parser does not understand."""


def time_to_ms(text: str) -> float:
    """``"37.94ms"`` -> 37.94, ``"1.10s"`` -> 1100.0, ``"837.28us"`` -> 0.83728."""
    match = _TIME.match(text.strip())
    if not match:
        raise WrkError(f"not a wrk time: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


@dataclass
class WrkRun:
    """One wrk run, as read from its output."""

    requests: int
    duration_s: float
    rps: float
    #: Percentile (50, 75, 90, 99) -> milliseconds; empty without ``--latency``.
    latency_ms: dict[float, float] = field(default_factory=dict)
    socket_errors: int = 0
    non_2xx: int = 0
    #: The Lua ``RESULT`` line's fields (``code0``, ``code1018``, ``other``, ``http_non200``...).
    result: dict[str, float] = field(default_factory=dict)

    @property
    def p99_ms(self) -> float | None:
        return self.latency_ms.get(99.0)

    @property
    def ok(self) -> int | None:
        """Answers with code 0 (needs a bench Lua script)."""
        value = self.result.get("code0")
        return None if value is None else int(value)

    @property
    def busy(self) -> int | None:
        """Answers with code 1018 SERVER_IS_BUSY."""
        value = self.result.get("code1018")
        return None if value is None else int(value)

    @property
    def ok_rps(self) -> float | None:
        return None if self.ok is None or not self.duration_s else self.ok / self.duration_s

    @property
    def failures(self) -> int:
        """Answers that were not code 0 or 1018, non-2xx answers and socket errors."""
        other = int(self.result.get("other", 0)) + int(self.result.get("http_non200", 0))
        return other + self.non_2xx + self.socket_errors


def parse(text: str) -> WrkRun:
    """Read wrk's standard report (plus the optional ``RESULT`` line of the bench Lua scripts)."""
    requests = duration = rps = None
    latency: dict[float, float] = {}
    socket_errors = non_2xx = 0
    result: dict[str, float] = {}
    in_distribution = False
    for line in text.splitlines():
        if line.strip() == "Latency Distribution":
            in_distribution = True
            continue
        if in_distribution:
            match = _PERCENTILE.match(line)
            if match:
                latency[float(match.group(1))] = time_to_ms(match.group(2))
                continue
            in_distribution = False
        if match := _TOTAL.match(line):
            requests, duration = int(match.group(1)), time_to_ms(match.group(2)) / 1000
        elif match := _RPS.match(line):
            rps = float(match.group(1))
        elif match := _SOCKET.search(line):
            socket_errors = sum(int(g) for g in match.groups())
        elif match := _NON_2XX.search(line):
            non_2xx = int(match.group(1))
        elif line.startswith("RESULT "):
            result = {key: float(value) for key, value in _RESULT_FIELD.findall(line)}
    if requests is None or duration is None or rps is None:
        raise WrkError(f"no wrk summary in the output:\n{text[-2000:]}")
    return WrkRun(requests, duration, rps, latency, socket_errors, non_2xx, result)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run(
    url: str,
    connections: int,
    duration_s: float,
    script: Path = POST_SCRIPT,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> WrkRun:
    """One wrk run on loopback: 1 thread for 1 connection, else 2 (the machine has 2 cores)."""
    binary = wrk_path()
    if binary is None:
        raise WrkError("wrk is not installed (make bench-tools)")
    threads = 1 if connections == 1 else 2
    argv = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    if args:
        argv += ["--", *args]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=duration_s + 60)
    if log is not None:
        with log.open("a") as out:
            out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip() or done.stdout[-500:]}")
    return parse(done.stdout)
