"""Serve the simulator on every interface - inside a network namespace of its own.

``python -m tests.live.netns '<json>'`` runs under ``unshare --net``: the namespace has only a
loopback interface (brought up here), so ``--bind 0.0.0.0:PORT`` is what an exposed server does
and yet nothing outside this test can reach it.  It starts gunicorn with the project's config
and the given arguments and environment, sends the given requests to ``127.0.0.1:PORT``, stops
gunicorn and prints one JSON object: the answers (status, JSON body or text) and the log.  A
header value of :data:`BANNER_TOKEN` sends the admin token the start-up banner printed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT = 8080


def _call(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    text = body.decode("utf-8", "replace")
    try:
        return {"status": status, "json": json.loads(text)}
    except ValueError:
        return {"status": status, "text": text[:500]}


#: A header value replaced by the admin token the banner printed.
BANNER_TOKEN = "<the banner's admin token>"


def _headers(headers: dict[str, str], log_path: Path) -> dict[str, str]:
    if BANNER_TOKEN not in headers.values():
        return headers
    found = re.search(r"X-Admin-Token: (\S+)", log_path.read_text(errors="replace"))
    token = found.group(1) if found else "(no token in the banner)"
    return {name: token if value == BANNER_TOKEN else value for name, value in headers.items()}


def _wait_healthy(proc: subprocess.Popen, deadline: float) -> str:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"gunicorn exited with {proc.returncode}"
        try:
            if _call("GET", "/control/health", {})["status"] == 200:
                return ""
        except OSError:
            pass
        time.sleep(0.1)
    return "no health answer within 60 s"


def main(spec: dict[str, Any]) -> dict[str, Any]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log_path = Path(spec["log"])
    env = {name: value for name, value in os.environ.items() if name != "SCORPIO_SIM_ADMIN_TOKEN"}
    env.update(spec.get("env", {}))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(gunicorn), "--config", "gunicorn.conf.py", *spec.get("args", [])],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        problem = _wait_healthy(proc, time.monotonic() + 60)
        answers = (
            []
            if problem
            else [_call(method, path, _headers(h, log_path)) for method, path, h in spec["calls"]]
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"problem": problem, "answers": answers, "log": log_path.read_text(errors="replace")}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
