"""Runs README.md top to bottom, as a newcomer pastes it, and compares what it prints with what it shows.

The README's rules, which this module reads (and README.md's own header comment repeats):

* Every fenced ``sh`` block runs, in order, in one bash session (variables such as ``$B`` carry over),
  in a scratch copy of the checkout; ``python`` blocks run too (``# test_<name>.py`` on the first line:
  written to that file and run with pytest).
* A comment line right after a command (or after another shown line) that starts with ``# {`` or
  ``# [`` is what that command prints; in a ``python`` block, the comment lines right under a
  ``print`` are what it prints.
  ``...`` in a shown line stands for anything; ``   <- note`` at its end is a note.  Launch tokens,
  round-page signatures, UUIDs and times are masked on both sides.
* ``<!-- readme-test: skip REASON -->`` right before a block skips it; the test reports it with
  the reason.
* Commands that start a server (``make run``, ``-m examples.wallet``, ``redis-server``) run in the
  background, as in a second terminal, and the next command waits until the server answers; a
  server started on the port of an earlier one replaces it (the newcomer's Ctrl-C).  Every server
  is stopped at the end.
* The ports are remapped to free ones, so the run never meets another simulator on this machine:
  8080 (the simulator), 8090 (the reference wallet), 6379 (Redis).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SKIP_MARK = re.compile(r"<!--\s*readme-test:\s*skip\s+(?P<reason>.+?)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<code>.*?)^```$", re.M | re.S)
SHOWN = re.compile(r"^# (?P<shown>[{\[].*)$")
NOTE = re.compile(r"\s+<- .*$")
#: Masks applied to both the shown and the real output: values that differ from run to run.
MASKS = [
    (re.compile(r"/play/[A-Za-z0-9_-]{16,}"), "/play/<launch token>"),
    (re.compile(r"/round/(\d+)-(\d+)-[0-9a-f]+"), r"/round/\1-\2-<signature>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),
]
_ENV = r"^\s*(?:[A-Z_]+=\S*\s+)*"  # VAR=value prefixes
SERVER_COMMANDS = {
    "simulator": re.compile(_ENV + r"make run\s*&?\s*(?:#.*)?$"),
    "wallet": re.compile(_ENV + r"\S*python3? -m examples\.wallet\b"),
    "redis": re.compile(_ENV + r"redis-server\b"),
}
COMMAND_TIMEOUT_S = 180.0
SERVER_START_TIMEOUT_S = 60.0


@dataclass
class Command:
    """One command of a block: its text (continuations joined) and the lines the README shows for it."""

    text: str
    line: int
    shown: list[str] = field(default_factory=list)


@dataclass
class Block:
    lang: str
    code: str
    line: int
    skip: str | None

    def commands(self) -> list[Command]:
        """The ``sh`` block's commands, each with the output lines shown under it."""
        commands: list[Command] = []
        pending = ""
        start = 0
        previous_was_command = False
        for offset, raw in enumerate(self.code.splitlines()):
            number = self.line + 1 + offset
            if pending:
                pending += "\n" + raw
            elif raw.strip().startswith("#") or not raw.strip():
                shown = SHOWN.match(raw.strip())
                if shown and previous_was_command:
                    commands[-1].shown.append(NOTE.sub("", shown.group("shown")))
                    continue
                previous_was_command = False
                continue
            else:
                pending, start = raw, number
            if pending.endswith("\\"):
                continue
            commands.append(Command(pending, start))
            pending = ""
            previous_was_command = True
        return commands

    def python_shown(self) -> list[str]:
        """What the ``print`` calls of a ``python`` block print: the comment lines right under them."""
        shown: list[str] = []
        lines = self.code.splitlines()
        for index, raw in enumerate(lines):
            if "print(" not in raw:
                continue
            for following in lines[index + 1 :]:
                if not following.strip().startswith("# "):
                    break
                shown.append(NOTE.sub("", following.strip()[2:]))
        return shown

    @property
    def title(self) -> str:
        first = next((line for line in self.code.splitlines() if line.strip()), "")
        return f"README.md:{self.line} ({self.lang}) {first[:60]}"


def readme_blocks(text: str) -> list[Block]:
    """Every fenced ``sh`` and ``python`` block, with its line and the skip reason marked before it."""
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("lang") not in ("sh", "python"):
            continue
        before = text[: match.start()].rstrip().splitlines()
        mark = SKIP_MARK.fullmatch(before[-1].strip()) if before else None
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(
            Block(match.group("lang"), match.group("code"), line, mark.group("reason") if mark else None)
        )
    return blocks


def masked(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def matches(shown: str, actual: str) -> bool:
    """``actual`` is what ``shown`` shows: equal after masking, ``...`` standing for anything."""
    pieces = [piece.strip() for piece in masked(shown).split("...")]
    pattern = ".*?".join(re.escape(piece) for piece in pieces)
    return re.fullmatch(pattern, masked(actual).strip(), flags=re.S) is not None


@dataclass
class Ports:
    simulator: int
    wallet: int
    redis: int

    def apply(self, text: str) -> str:
        """The README's fixed ports replaced by this run's."""
        text = re.sub(r"\b8080\b", str(self.simulator), text)
        text = re.sub(r"\b8090\b", str(self.wallet), text)
        return re.sub(r"\b6379\b", str(self.redis), text)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_kind(command: str) -> str | None:
    for kind, pattern in SERVER_COMMANDS.items():
        if pattern.match(command):
            return kind
    return None


def server_port(kind: str, command: str, ports: Ports) -> int:
    """The port a server command listens on (after :meth:`Ports.apply`)."""
    if kind == "simulator":
        bind = re.search(r"SCORPIO_SIM_BIND=\S*:(\d+)", command)
        return int(bind.group(1)) if bind else ports.simulator
    port = re.search(r"--port[ =](\d+)", command)
    if port:
        return int(port.group(1))
    return ports.wallet if kind == "wallet" else ports.redis


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Shell:
    """One bash session in ``workdir``: commands run in order, their output read from files."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.count = 0
        self._log = open(workdir / ".readme-shell.log", "wb")  # noqa: SIM115 - closed by close()
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        self._send("set -m\n")  # background jobs in process groups of their own, so they can be stopped

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def _wait_for(self, marker: str, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError("the README's bash session ended")
                buffer += chunk
                for line in buffer.decode(errors="replace").splitlines():
                    if line.startswith(marker):
                        return line[len(marker) :].strip()
        raise TimeoutError(f"no answer within {timeout:.0f} s")

    def run(self, command: str, timeout: float = COMMAND_TIMEOUT_S) -> Result:
        self.count += 1
        out, err = self.workdir / f".readme-{self.count}.out", self.workdir / f".readme-{self.count}.err"
        marker = f"__README_DONE_{self.count}__"
        self._send(f"{{ {command}\n}} >{out} 2>{err} </dev/null\necho {marker} $?\n")
        code = int(self._wait_for(marker, timeout))
        result = Result(code, out.read_text(errors="replace"), err.read_text(errors="replace"))
        out.unlink()
        err.unlink()
        return result

    def start(self, command: str, log: Path) -> int:
        """``command`` in the background; its process group id."""
        self.count += 1
        marker = f"__README_STARTED_{self.count}__"
        command = re.sub(r"\s*&\s*(#.*)?$", "", command)
        self._send(f"{{ {command}\n}} >{log} 2>&1 </dev/null &\necho {marker} $!\n")
        return int(self._wait_for(marker, 10))

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._send("exit\n")
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self._log):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(pgid: int, timeout: float = 15.0) -> None:
    """SIGTERM to a background group, SIGKILL after ``timeout``; raises if anything survives."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _group_alive(pgid):
                return
            time.sleep(0.05)
    if _group_alive(pgid):
        raise AssertionError(f"README server group {pgid} survived SIGKILL")


def wait_for_port(port: int, kind: str, log: Path, timeout: float = SERVER_START_TIMEOUT_S) -> None:
    """Until the server answers: the simulator's health check, else a TCP connection."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if kind == "simulator":
                answer = requests.get(f"http://127.0.0.1:{port}/control/health", timeout=1)
                if answer.status_code == 200:
                    return
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise AssertionError(f"the {kind} server on port {port} did not answer within {timeout:.0f} s\n{tail}")


@dataclass
class Servers:
    """The background servers the README started, by port."""

    shell: Shell
    logs: Path
    by_port: dict[int, int] = field(default_factory=dict)

    def start(self, kind: str, command: str, port: int) -> None:
        if port in self.by_port:  # the newcomer stops the old one first
            stop_group(self.by_port.pop(port))
        log = self.logs / f"{kind}-{port}-{len(self.by_port)}.log"
        self.by_port[port] = self.shell.start(command, log)
        wait_for_port(port, kind, log)

    def stop_all(self) -> None:
        for port in list(self.by_port):
            stop_group(self.by_port.pop(port))


def steps(blocks: list[Block]) -> Iterator[tuple[Block, Command | None]]:
    """Each runnable command in order; ``python`` blocks as one step with no command."""
    for block in blocks:
        if block.skip:
            continue
        if block.lang == "python":
            yield block, None
        else:
            for command in block.commands():
                yield block, command
