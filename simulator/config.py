"""Settings from ``SCORPIO_SIM_*`` environment variables.

Each setting has a sensible default so ``make run`` needs none of them; the
README lists them all.  ``create_app(Settings(...))`` lets tests and the pytest
plugin pass settings directly instead of through the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from .access.guards import proxy_networks
from .listeners import all_local
from .reporting import timezone_named

_TRUE = {"1", "true", "yes", "on"}
#: Settings the serving code gives, never the environment.
_NOT_FROM_ENV = {"listen"}
_FALSE = {"0", "false", "no", "off", ""}

#: Default currency map, ``code -> (ISO alpha code, decimals)``.  Simulator-defined,
#: not taken from the real service (spec 11.2, OP-20).
DEFAULT_CURRENCIES: dict[int, tuple[str, int]] = {
    1: ("KRW", 0),
    2: ("USD", 2),
    3: ("EUR", 2),
    4: ("ARS", 2),
    5: ("BRL", 2),
    6: ("ETB", 2),
    7: ("NGN", 2),
}


def default_fixtures_dir() -> Path:
    """The bundled fixture set: inside the wheel, or the repository's ``fixtures/``."""
    here = Path(__file__).resolve().parent
    bundled = here / "_fixtures" / "default"
    if bundled.is_dir():
        return bundled
    return here.parent / "fixtures" / "default"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"SCORPIO_SIM_{name.upper()} must be on/off, true/false or 1/0, got {raw!r}")


def _parse_currencies(raw: str) -> dict[int, tuple[str, int]]:
    """``"1:KRW:0,2:USD:2"`` -> ``{1: ("KRW", 0), 2: ("USD", 2)}``."""
    result: dict[int, tuple[str, int]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, alpha, decimals = item.split(":")
        result[int(code)] = (alpha.strip().upper(), int(decimals))
    return result


def _check_store(value: str) -> None:
    """``memory`` or a URL of the Redis server holding the shared state (issue 9), checked at start.

    A typo would otherwise surface as a connection error on the first request,
    or worse as a silent in-memory run when several workers were meant to share.
    """
    if value == "memory":
        return
    problem = _store_url_problem(urlsplit(value))
    if problem:
        # A password in the URL never reaches the log.
        shown = re.sub(r"//[^/@]*@", "//***@", value)
        raise ValueError(f"SCORPIO_SIM_STORE {problem}, got {shown!r}")
    try:
        import redis  # noqa: F401 - the optional extra; only the Redis store needs it
    except ImportError:
        raise ValueError(
            "SCORPIO_SIM_STORE names a Redis server, but the redis package is not installed: "
            "pip install 'scorpio-sim[redis]' (`make install` installs it)"
        ) from None


def _store_url_problem(url: SplitResult) -> str:
    """What is wrong with a store URL, or ``""``; the forms the Redis client's ``from_url`` takes."""
    if url.scheme not in ("redis", "rediss", "unix"):
        return "must be 'memory' or a redis://host:port/db URL (or rediss://, unix:///path)"
    if url.scheme == "unix":
        if not url.path:
            return "names no socket path (unix:///path/to/redis.sock)"
        db = parse_qs(url.query).get("db", ["0"])[0]
    else:
        try:
            url.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError:
            return "has a port that is not a number from 0 to 65535"
        if not url.hostname:
            return "names no host (redis://host:port/db)"
        db = url.path.strip("/") or "0"
    return (
        "" if db.isdigit() else "has a database that is not a number (redis://host:port/N, unix:///path?db=N)"
    )


def _refuse_trust_proxy(env: Any) -> None:
    """``SCORPIO_SIM_TRUST_PROXY=on`` believed ``X-Forwarded-For`` from any peer, so any client
    could claim an allowed address (issue 15).  It is not mapped to a guess: the start stops and
    says what replaced it.  ``off`` (what it always meant by default) is still accepted."""
    raw = env.get("SCORPIO_SIM_TRUST_PROXY")
    if raw is None or raw.strip().lower() in _FALSE:
        return
    raise ValueError(
        "SCORPIO_SIM_TRUST_PROXY is no longer supported: it trusted X-Forwarded-For from any client. "
        "Name your reverse proxies instead, e.g. SCORPIO_SIM_TRUSTED_PROXIES=10.0.0.5 or 10.0.0.0/8, "
        "and unset SCORPIO_SIM_TRUST_PROXY"
    )


@dataclass(frozen=True)
class Settings:
    bind: str = "127.0.0.1:8080"
    #: Base of every URL the simulator hands out (game URLs, images); default: the bind address.
    public_url: str = ""
    fixtures: str = ""
    seed: int = 20260101
    #: Addresses or networks of the reverse proxies whose ``X-Forwarded-For`` is believed (issue 15).
    trusted_proxies: str = ""
    #: Requests of one agent (or one IP, see ``inflight_scope``) in flight at once (OP-6).
    inflight_limit: int = 50
    inflight_scope: str = "agent"
    #: Reject ids sent as numeric strings with 1002 (OP-10).
    strict_types: bool = False
    admin_token: str = ""
    control: bool = True
    max_body: int = 64 * 1024
    max_json_depth: int = 32
    journal_size: int = 2000
    #: Callback attempts kept per agent in the callback log.
    callback_log_size: int = 2000
    #: OP-3: seamless bets take agent points, wins give them back (``off``: play never touches points).
    seamless_points: bool = True
    #: OP-2: ``default`` (win/cancel 1 + 3 attempts, balance 1 + 2) or ``extended`` (1 + 50, 1 + 3).
    retry_profile: str = "default"
    #: Seconds between retries of ``win`` and ``cancel``: random in [min, max] (spec 6.9: 2-4 s).
    retry_delay_min: float = 2.0
    retry_delay_max: float = 4.0
    default_rtp: int = 95
    #: Reporting timezone of dates in and out of the API: ``UTC`` or e.g. ``Asia/Seoul`` (OP-5).
    report_tz: str = "UTC"
    #: 30-second spacing of ``transaction`` / ``transaction-id`` polls enforced with 1018 (OP-7).
    poll_throttle: bool = True
    poll_interval: int = 30
    threads: int = 256
    worker_class: str = "gthread"
    log_level: str = "info"
    #: A snapshot file: loaded at start, written at shutdown and on demand (empty = none).
    state_file: str = ""
    #: Seconds between background saves of the state file while serving (0 = only at shutdown).
    save_interval: float = 5.0
    #: Where the state lives: ``memory`` (one process) or a Redis URL shared by workers and hosts (issue 9).
    store: str = "memory"
    #: Prefix of every Redis key of this simulator, so several can share one Redis database.
    store_prefix: str = "scorpio:"
    currencies: dict[int, tuple[str, int]] = field(default_factory=lambda: dict(DEFAULT_CURRENCIES))
    #: The addresses the server really listens on (:mod:`simulator.listeners`), set by the code that
    #: serves the app (gunicorn's hook through :mod:`simulator.wsgi`, the pytest plugin), never read
    #: from the environment; empty: the ``bind`` address.
    listen: tuple[str, ...] = ()

    @property
    def fixtures_dir(self) -> Path:
        return Path(self.fixtures) if self.fixtures else default_fixtures_dir()

    @property
    def state_path(self) -> Path | None:
        return Path(self.state_file) if self.state_file else None

    @property
    def listening(self) -> tuple[str, ...]:
        """Where the server listens: the announced listeners, else the ``bind`` setting."""
        return self.listen or (self.bind,)

    @property
    def base_url(self) -> str:
        """Base of the URLs handed out: ``public_url``, else :attr:`bind_url`."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return self.bind_url

    @property
    def bind_url(self) -> str:
        """Where the server listens as a URL (the first TCP listener, else the bind setting); a
        wildcard address (``0.0.0.0``, ``::``) is reached on ``127.0.0.1``."""
        tcp = [address for address in self.listening if ":" in address and not address.startswith("unix:")]
        address = tcp[0] if tcp else self.bind
        host, _, port = address.rpartition(":")
        if host in ("0.0.0.0", "", "::", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    @property
    def loopback_only(self) -> bool:
        """Every listener is reachable from this machine only (issue 15): else the admin token
        is required, and generated when none is set."""
        return all_local(self.listening)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"SCORPIO_SIM_{f.name.upper()}")
            if raw is None or f.name in _NOT_FROM_ENV:
                continue
            if f.name == "currencies":
                values[f.name] = _parse_currencies(raw)
            elif f.type in ("bool", bool):
                values[f.name] = _parse_bool(f.name, raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        _refuse_trust_proxy(env)
        settings = cls(**values)
        if settings.retry_profile not in ("default", "extended"):
            raise ValueError("SCORPIO_SIM_RETRY_PROFILE must be 'default' or 'extended'")
        if settings.save_interval < 0:
            raise ValueError("SCORPIO_SIM_SAVE_INTERVAL must be 0 (off) or a number of seconds")
        if settings.inflight_scope not in ("agent", "ip"):
            raise ValueError("SCORPIO_SIM_INFLIGHT_SCOPE must be 'agent' or 'ip'")
        _check_store(settings.store)
        if not re.fullmatch(r"[A-Za-z0-9_.:/-]{1,64}", settings.store_prefix):
            raise ValueError(
                "SCORPIO_SIM_STORE_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . : / -, "
                f"got {settings.store_prefix!r}"
            )
        try:
            proxy_networks(settings.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"SCORPIO_SIM_TRUSTED_PROXIES: {exc}") from None
        try:
            timezone_named(settings.report_tz)
        except Exception:
            raise ValueError(f"SCORPIO_SIM_REPORT_TZ: unknown timezone {settings.report_tz!r}") from None
        return settings
