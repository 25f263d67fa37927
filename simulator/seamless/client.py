"""The callback client: one pooled HTTP/1.1 session to integrators' wallets (spec 6.1, 13.1).

``requests`` keeps header names as written, so ``Callback-Token`` reaches PHP
handlers that compare it case-sensitively.  Callers never hold a lock while a
call is on the wire.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..domain.models import Agent
from ..money import json_number
from .replies import Reply, read_reply

#: Per-command timeouts in seconds (spec 6.9).
TIMEOUTS = {"bet": 2.0, "balance": 2.0}
DEFAULT_TIMEOUT = 4.0
#: Check strings per command (spec 6.5).
CHECKS = {"authenticate": "21", "balance": "21,22"}
#: Commands whose successful reply must carry ``data.balance``.
NEEDS_BALANCE = {"authenticate", "balance", "bet", "win", "cancel"}


@dataclass(frozen=True)
class Attempt:
    command: str
    url: str
    request: dict[str, Any]
    reply: Reply
    status: int | None
    duration_ms: float
    error: str = ""


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class CallbackClient:
    def __init__(self, clock: Clock, pool_size: int = 256) -> None:
        self._clock = clock
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def envelope(self, command: str, data: dict[str, Any], check: str) -> dict[str, Any]:
        """The request body: ``timestamp`` and ``request_timestamp`` are the same string (13.1)."""
        stamp = str(int(self._clock.timestamp()))
        return {
            "command": command,
            "check": check,
            "data": data,
            "timestamp": stamp,
            "request_timestamp": stamp,
        }

    def send(self, agent: Agent, command: str, data: dict[str, Any], check: str) -> Attempt:
        """POST one callback and classify the reply; never raises for network trouble."""
        url = agent.settings.callback_url
        body = self.envelope(command, data, check)
        payload = json.dumps(body, default=_encode, separators=(",", ":")).encode()
        headers = {
            "Callback-Token": agent.settings.callback_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        started = time.perf_counter()
        try:
            response = self._session.post(
                url,
                data=payload,
                headers=headers,
                timeout=TIMEOUTS.get(command, DEFAULT_TIMEOUT),
                allow_redirects=False,
            )
            content = response.content
        except requests.Timeout:
            return self._failed(command, url, body, started, "timed out")
        except requests.RequestException as exc:
            return self._failed(command, url, body, started, f"connection failed: {exc.__class__.__name__}")
        duration = (time.perf_counter() - started) * 1000
        reply = read_reply(response.status_code, content, command in NEEDS_BALANCE)
        return Attempt(command, url, body, reply, response.status_code, duration)

    @staticmethod
    def _failed(command: str, url: str, body: dict[str, Any], started: float, error: str) -> Attempt:
        duration = (time.perf_counter() - started) * 1000
        return Attempt(command, url, body, Reply(False, problem=error), None, duration, error)

    def authenticate(self, agent: Agent, account: str) -> Decimal:
        """Single-attempt ``authenticate`` (6.9); any failure is ``1015 CALLBACK_ERROR``."""
        attempt = self.send(agent, "authenticate", {"account": account}, CHECKS["authenticate"])
        reply = attempt.reply
        if reply.ok and reply.balance is not None:
            return reply.balance
        why = reply.problem or f"wallet answered result {reply.result}"
        raise SimError(ResultCode.CALLBACK_ERROR, f"authenticate for {account!r} failed: {why}")
