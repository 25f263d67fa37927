"""py-spy profiles of the gunicorn worker while a scenario's load runs, summarised as top frames.

Two views, recorded one after the other under the same load:

- cpu: ``py-spy record --gil`` samples only the thread holding the GIL, so the
  samples show where the worker's Python time goes;
- wall: every thread py-spy does not see idle, so threads waiting on a lock
  (or the GIL) show where requests wait.

The summary lists the frames with the
most samples of their own ("self") and the frames most often on the stack
("total"), in percent of all samples.  Optional: without py-spy the bench runs
unprofiled (``make bench-tools`` installs it into ``.venv``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Frames on every stack of a worker thread: left out of the "total" list, which they would head.
PLUMBING = ("(threading.py)", "(concurrent/futures/thread.py)")
_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^():]+?)(?::(?P<line>\d+))?\)$")


def pyspy_path() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def short_frame(frame: str) -> str:
    """``dispatch (simulator/api/dispatch.py:96)`` -> ``dispatch (simulator/api/dispatch.py)``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "lib/python3.11/", "lib/python3.12/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match.group('func')} ({path})"


@dataclass
class Profile:
    samples: int = 0
    own: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)

    def top(self, counter: Counter, n: int) -> list[tuple[str, float]]:
        frames = [(f, c) for f, c in counter.most_common() if counter is self.own or not f.endswith(PLUMBING)]
        return [(frame, 100 * count / self.samples) for frame, count in frames[:n]]

    def summary(self, n: int = 15) -> dict[str, object]:
        return {
            "samples": self.samples,
            "self": [{"frame": f, "percent": round(p, 1)} for f, p in self.top(self.own, n)],
            "total": [{"frame": f, "percent": round(p, 1)} for f, p in self.top(self.total, 2 * n)],
        }


def parse_collapsed(text: str) -> Profile:
    """Read py-spy's raw (collapsed) output: ``frame;frame;...;leaf COUNT`` per line, root first."""
    profile = Profile()
    for line in text.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [short_frame(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        profile.samples += count
        profile.own[frames[-1]] += count
        for frame in set(frames):
            profile.total[frame] += count
    return profile


def render(profile: Profile, n: int = 15) -> str:
    """Top ``n`` frames by own samples, top ``2 n`` by samples on the stack (thread plumbing left out)."""
    lines = [f"{profile.samples} samples", "  self %  frame"]
    lines += [f"  {p:6.1f}  {f}" for f, p in profile.top(profile.own, n)]
    lines += ["  total %  frame"]
    lines += [f"  {p:7.1f}  {f}" for f, p in profile.top(profile.total, 2 * n)]
    return "\n".join(lines)


def record(pid: int, seconds: float, raw_path: Path, gil: bool, rate: int = 100) -> Profile | str:
    """Sample ``pid`` for ``seconds``; the profile, or why there is none."""
    binary = pyspy_path()
    if binary is None:
        return "py-spy not installed"
    argv = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(rate),
    ]
    argv += ["--gil"] if gil else []
    argv += ["--nonblocking", "--format", "raw", "--output", str(raw_path)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        return "py-spy did not finish"
    if done.returncode != 0 or not raw_path.exists():
        return f"py-spy failed ({done.returncode}): {(done.stdout + done.stderr).strip()[-300:]}"
    return parse_collapsed(raw_path.read_text())


#: The two views: where the interpreter's time goes, and where the busy threads are (waits included).
VIEWS = {"cpu (GIL holder)": True, "wall (active threads)": False}


def profile_under_load(
    pid: int, seconds: float, out: Path, stem: str, load: Callable[[float], object]
) -> dict[str, object]:
    """Run ``load(duration)`` in a thread and record both views one after the other while it runs.

    Returns ``{view: summary or {"error": ...}}``; the raw stacks and a text
    summary go to ``out/<stem>-*.txt``.
    """
    worker = threading.Thread(target=load, args=(len(VIEWS) * seconds + 3,), daemon=True)
    worker.start()
    time.sleep(1)  # past the load's start-up
    views: dict[str, object] = {}
    texts = []
    for view, gil in VIEWS.items():
        slug = "cpu" if gil else "wall"
        profile = record(pid, seconds, out / f"{stem}-{slug}.raw.txt", gil)
        if isinstance(profile, str):
            views[view] = {"error": profile}
            texts.append(f"{view}: {profile}")
        else:
            views[view] = profile.summary()
            texts.append(f"{view}: {render(profile)}")
    worker.join()
    (out / f"{stem}-summary.txt").write_text("\n\n".join(texts) + "\n")
    return views
