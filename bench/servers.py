"""The servers of a bench run: the simulator as in production, and its references.

- the simulator: ``gunicorn --config gunicorn.conf.py`` with ``SCORPIO_SIM_BIND``
  on a free loopback port, exactly as ``make run`` and the Dockerfile start it;
- bare Flask: the same command with the app swapped (``bench.bare:app``);
- Prism and Mockoon (npm, installed under ``bench/.npm`` by ``make bench-tools``)
  serving the same JSON bytes as static examples;
- the stub wallet (``bench.stub_wallet``) with a fixed delay.

``start_simulator(env=...)`` adds settings on top of the caller's: the
``redis`` scenario starts it with ``SCORPIO_SIM_STORE`` and ``SCORPIO_SIM_WORKERS``.

Every ``SCORPIO_SIM_*`` variable of the caller passes through to both
gunicorn servers, so ``SCORPIO_SIM_WORKER_CLASS=gevent make bench`` measures
gevent against a gevent ceiling.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .procs import Proc, StartError, children_of, free_port, spawn, wait_ready

REPO_ROOT = Path(__file__).resolve().parents[1]
NPM_BIN = REPO_ROOT / "bench" / ".npm" / "node_modules" / ".bin"
DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
SEAMLESS_TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"
READ_PATHS = ("/v4/user/info", "/v4/agent/info")
READ_BODIES = {"/v4/user/info": '{"user_code":400000001}', "/v4/agent/info": "{}"}
START_TIMEOUT_S = 60.0


def gunicorn_argv(app: str | None = None) -> list[str]:
    """``gunicorn --config gunicorn.conf.py [app]`` from the interpreter's own environment."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn) if gunicorn.exists() else "gunicorn", "--config", "gunicorn.conf.py"]
    return argv + ([app] if app else [])


def _post_ok(url: str, body: str = "{}", token: str = DEMO_TOKEN) -> bool:
    try:
        answer = requests.post(
            url,
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=2,
        )
    except requests.RequestException:
        return False
    return answer.status_code == 200 and answer.content.startswith(b'{"code":0,')


@dataclass
class Server:
    name: str
    base_url: str
    proc: Proc
    start_seconds: float

    def stop(self) -> None:
        self.proc.stop()

    def worker_pid(self) -> int:
        """The gunicorn worker (the master's only child), else the process itself."""
        kids = children_of(self.proc.pid)
        return kids[0] if kids else self.proc.pid

    def worker_pids(self) -> list[int]:
        """Every gunicorn worker (the master's children), else the process itself."""
        return children_of(self.proc.pid) or [self.proc.pid]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def start_gunicorn(name: str, out: Path, app: str | None = None, env: dict[str, str] | None = None) -> Server:
    """The simulator (``app=None``) or another WSGI app under the simulator's gunicorn config."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proc = spawn(
        name,
        gunicorn_argv(app),
        out / f"{name}.log",
        REPO_ROOT,
        _env(**(env or {}), SCORPIO_SIM_BIND=f"127.0.0.1:{port}"),
    )
    try:
        waited = wait_ready(proc, lambda: _post_ok(f"{base_url}/v4/agent/info"), START_TIMEOUT_S)
    except StartError:
        proc.stop()
        raise
    return Server(name, base_url, proc, waited)


def start_simulator(out: Path, name: str = "simulator", env: dict[str, str] | None = None) -> Server:
    """The simulator; ``env`` adds or overrides settings (``SCORPIO_SIM_STORE``, ``SCORPIO_SIM_WORKERS``)."""
    return start_gunicorn(name, out, env=env)


def start_bare(out: Path, bodies_file: Path) -> Server:
    return start_gunicorn("bare-flask", out, "bench.bare:app", {"SCORPIO_BENCH_BODIES": str(bodies_file)})


# -- the npm references ------------------------------------------------------------------
def npm_tool(name: str) -> Path | None:
    """``prism`` or ``mockoon-cli`` from ``bench/.npm``, when installed and node exists."""
    path = NPM_BIN / name
    return path if path.exists() and shutil.which("node") else None


def prism_spec(bodies: dict[str, str]) -> dict[str, Any]:
    """A minimal OpenAPI 3 document whose operations answer the bodies as static examples."""
    operation = {
        "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}},
    }
    paths = {
        route: {
            "post": {
                **operation,
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"example": json.loads(body)}},
                    }
                },
            }
        }
        for route, body in bodies.items()
    }
    return {"openapi": "3.0.3", "info": {"title": "scorpio-sim bench", "version": "1"}, "paths": paths}


def mockoon_environment(bodies: dict[str, str], port: int) -> dict[str, Any]:
    """A minimal Mockoon environment: one POST route per body, templating off (static bytes)."""
    routes = []
    for number, (route, body) in enumerate(bodies.items(), 1):
        routes.append(
            {
                "uuid": f"5c0a7e1e-0000-4000-8000-{number:012d}",
                "type": "http",
                "method": "post",
                "endpoint": route.lstrip("/"),
                "responses": [
                    {
                        "uuid": f"5c0a7e1e-0000-4000-9000-{number:012d}",
                        "body": body,
                        "statusCode": 200,
                        "headers": [{"key": "Content-Type", "value": "application/json"}],
                        "bodyType": "INLINE",
                        "disableTemplating": True,
                        "default": True,
                    }
                ],
            }
        )
    return {
        "uuid": "5c0a7e1e-0000-4000-8000-000000000000",
        "lastMigration": 32,
        "name": "scorpio-sim-bench",
        "port": port,
        "hostname": "127.0.0.1",
        "routes": routes,
        "rootChildren": [{"type": "route", "uuid": r["uuid"]} for r in routes],
    }


def start_prism(out: Path, bodies: dict[str, str]) -> Server:
    tool = npm_tool("prism")
    if tool is None:
        raise StartError("Prism is not installed (make bench-tools needs npm)")
    spec = out / "prism-openapi.json"
    spec.write_text(json.dumps(prism_spec(bodies), indent=1))
    port = free_port()
    proc = spawn(
        "prism", [str(tool), "mock", str(spec), "-h", "127.0.0.1", "-p", str(port)], out / "prism.log", out
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        waited = wait_ready(proc, lambda: _post_ok(f"{base_url}/v4/agent/info"), START_TIMEOUT_S, poll=0.1)
    except StartError:
        proc.stop()
        raise
    return Server("prism", base_url, proc, waited)


def start_mockoon(out: Path, bodies: dict[str, str]) -> Server:
    tool = npm_tool("mockoon-cli")
    if tool is None:
        raise StartError("Mockoon is not installed (make bench-tools needs npm)")
    port = free_port()
    env_file = out / "mockoon-environment.json"
    env_file.write_text(json.dumps(mockoon_environment(bodies, port), indent=1))
    # -X: log to stdout only (our log file), not under the home directory.
    argv = [str(tool), "start", "-d", str(env_file), "-p", str(port), "-X"]
    proc = spawn("mockoon", argv, out / "mockoon.log", out)
    base_url = f"http://127.0.0.1:{port}"
    try:
        waited = wait_ready(proc, lambda: _post_ok(f"{base_url}/v4/agent/info"), START_TIMEOUT_S, poll=0.1)
    except StartError:
        proc.stop()
        raise
    return Server("mockoon", base_url, proc, waited)


def npm_versions() -> dict[str, str]:
    """Versions of the npm references, for the results' meta block."""
    found = {}
    for package in ("@stoplight/prism-cli", "@mockoon/cli"):
        manifest = REPO_ROOT / "bench" / ".npm" / "node_modules" / package / "package.json"
        if manifest.exists():
            found[package] = json.loads(manifest.read_text()).get("version", "?")
    return found


def start_stub_wallet(out: Path, delay_ms: float) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "bench.stub_wallet", "--port", str(port), "--delay-ms", str(delay_ms)]
    proc = spawn(f"stub-wallet-{delay_ms:g}ms", argv, out / f"stub-wallet-{delay_ms:g}ms.log", REPO_ROOT)

    def ready() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        waited = wait_ready(proc, ready, START_TIMEOUT_S, poll=0.05)
    except StartError:
        proc.stop()
        raise
    return Server(proc.name, f"http://127.0.0.1:{port}", proc, waited)


# -- talking to the simulator ------------------------------------------------------------
class SimApi:
    """``/control``, ``/admin/api`` and ``/v4`` calls of a running simulator (setup, not measurement)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        token = os.environ.get("SCORPIO_SIM_ADMIN_TOKEN")
        self.admin_headers = {"X-Admin-Token": token} if token else {}

    def control(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        answer = self.session.request(
            method, f"{self.base_url}/control/{path}", json=body, headers=self.admin_headers, timeout=timeout
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.session.request(
            method, f"{self.base_url}/admin/api/{path}", json=body, headers=self.admin_headers, timeout=30
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def v4(self, path: str, body: Any, token: str = DEMO_TOKEN) -> requests.Response:
        return self.session.post(
            f"{self.base_url}/v4/{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def read_bodies(self) -> dict[str, str]:
        """The exact bytes the simulator answers to the two read calls, after a reset."""
        bodies = {}
        for route in READ_PATHS:
            answer = self.session.post(
                f"{self.base_url}{route}",
                data=READ_BODIES[route],
                headers={"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"},
                timeout=10,
            )
            answer.raise_for_status()
            bodies[route] = answer.content.decode()
        return bodies


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "?"
