"""The callback client: one pooled HTTP/1.1 session to integrators' wallets (spec 6.1, 6.9, 13.1).

``requests`` keeps header names as written, so ``Callback-Token`` reaches PHP
handlers that compare it case-sensitively.  Every attempt goes to the callback
log; ``callback:<command>`` fault rules (``delay_ms``, ``duplicate``, ``skip``)
act here.  Callers never hold a lock while a call is on the wire.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..domain.enums import CallbackOutcome
from ..domain.models import Agent
from ..money import json_default
from .deadline import DeadlineAdapter, exchange_within
from .log import CallbackEntry, CallbackLog
from .protocol import check_for
from .replies import Reply, read_reply

#: Per-command timeouts in seconds (spec 6.9): each a deadline for the whole exchange -
#: connect, send and the full reply (issue 15), not for each read.
TIMEOUTS = {"bet": 2.0, "balance": 2.0}
DEFAULT_TIMEOUT = 4.0
#: The largest reply read (issue 15): past it the reply is garbage (6.8) and the rest is never
#: read, so a wallet answering 100 MB costs no more memory than one answering 1 MiB.
MAX_REPLY_BYTES = 1 << 20
_CHUNK = 64 * 1024
#: Commands whose successful reply must carry ``data.balance``.
NEEDS_BALANCE = {"authenticate", "balance", "bet", "win", "cancel"}

FaultFirer = Callable[[str | None, str], list[dict]]


@dataclass(frozen=True)
class Attempt:
    command: str
    request: dict[str, Any]
    reply: Reply
    status: int | None
    duration_ms: float
    error: str = ""
    entry_id: int = 0
    #: The ``callback:<command>`` fault effects that fired for this send.
    effects: tuple[dict, ...] = ()

    @property
    def unclear(self) -> bool:
        """No usable answer: timeout, network error, non-200 or unusable body (6.8)."""
        return not self.reply.usable


def environment_proxies(url: str) -> dict[str, str]:
    """``HTTP(S)_PROXY`` / ``NO_PROXY`` for this URL's scheme and host, read once per host."""
    parts = urlsplit(url)
    return _proxies_for(parts.scheme, parts.netloc)


@functools.lru_cache(maxsize=1024)
def _proxies_for(scheme: str, netloc: str) -> dict[str, str]:
    return requests.utils.get_environ_proxies(f"{scheme}://{netloc}/")


@functools.cache
def ca_bundle() -> str | bool:
    """The CA bundle requests would use from the environment, else its default (verify on)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def _read_bounded(response: requests.Response) -> tuple[bytes, bool]:
    """``(body, too_big)``: at most :data:`MAX_REPLY_BYTES` read; a longer reply's connection is
    closed rather than drained, and a complete one goes back to the pool."""
    if response.raw is None:  # an adapter that answers with the body already read (tests, mocks)
        content = response.content
        return content[:MAX_REPLY_BYTES], len(content) > MAX_REPLY_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
        response.raw.close()
        return b"", True
    chunks, size = [], 0
    try:
        for chunk in response.raw.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                response.raw.close()
                return b"".join(chunks), True
            chunks.append(chunk)
    except BaseException:
        response.raw.close()  # a half-read connection never goes back to the pool
        raise
    response.raw.release_conn()
    return b"".join(chunks), False


def outcome_of(reply: Reply) -> CallbackOutcome:
    if not reply.usable:
        return CallbackOutcome.UNCLEAR
    return CallbackOutcome.OK if reply.result == 0 else CallbackOutcome.REFUSED


class CallbackClient:
    def __init__(self, clock: Clock, log: CallbackLog, faults: FaultFirer, pool_size: int = 256) -> None:
        self._clock = clock
        self.log = log
        self._faults = faults
        self._session = requests.Session()
        # The environment (proxies, CA bundle) is read once per wallet address, not on
        # every callback: requests would otherwise look up proxies, .netrc and the CA
        # bundle for each call (~170 us, a sixth of a seamless round's CPU).
        self._session.trust_env = False
        adapter = DeadlineAdapter(pool_connections=16, pool_maxsize=pool_size, max_retries=0)
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

    def send(
        self,
        agent: Agent,
        command: str,
        data: dict[str, Any] | None = None,
        *,
        body: dict[str, Any] | None = None,
        attempt: int = 1,
        token: str | None = None,
        apply_faults: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> Attempt:
        """POST one callback (a new body from ``data``, or a given ``body`` for a retry/replay).

        ``extra`` goes into the log entry as it is (a conformance run names its scenario and the
        results it expects there, :func:`simulator.seamless.log.expected_refusal`).
        """
        if body is None:
            body = self.envelope(command, data or {}, check_for(command, agent.settings.callback_dialect))
        effects = self._faults(agent.name, f"callback:{command}") if apply_faults else []
        for effect in effects:
            if "delay_ms" in effect:
                time.sleep(effect["delay_ms"] / 1000)
        if any(effect.get("skip") for effect in effects):
            reply = Reply(False, problem="not sent: skipped by a fault rule (treated as a timeout)")
            sent = self._logged(
                agent,
                command,
                body,
                attempt,
                reply,
                None,
                b"",
                0.0,
                reply.problem,
                CallbackOutcome.SKIPPED,
                extra=extra,
            )
        else:
            sent = self._post(agent, command, body, attempt, token, extra=extra)
            if any(effect.get("duplicate") for effect in effects):
                self._post(
                    agent, command, body, attempt, token, note="duplicate sent by a fault rule", extra=extra
                )
        return dataclasses.replace(sent, effects=tuple(effects))

    def _post(
        self,
        agent: Agent,
        command: str,
        body: dict[str, Any],
        attempt: int,
        token: str | None,
        note: str = "",
        extra: dict[str, Any] | None = None,
    ) -> Attempt:
        url = agent.settings.callback_url
        payload = json.dumps(body, default=json_default, separators=(",", ":")).encode()
        headers = {
            "Callback-Token": agent.settings.callback_token if token is None else token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        started = time.perf_counter()
        status, content, error, too_big = None, b"", "", False
        with exchange_within(TIMEOUTS.get(command, DEFAULT_TIMEOUT)) as exchange:
            try:
                response = self._session.post(
                    url,
                    data=payload,
                    headers=headers,
                    timeout=exchange.remaining() or 0.001,
                    allow_redirects=False,
                    proxies=environment_proxies(url),
                    verify=ca_bundle(),
                    stream=True,
                )
                status = response.status_code
                content, too_big = _read_bounded(response)
            except requests.Timeout:
                error = "timed out"
            except (requests.RequestException, Urllib3Error, OSError) as exc:
                error = f"connection failed: {exc.__class__.__name__}"
            if exchange.expired:
                error = "timed out"
        duration = (time.perf_counter() - started) * 1000
        if error:
            reply = Reply(False, problem=error)
        elif too_big:
            reply = Reply(False, problem=f"reply larger than {MAX_REPLY_BYTES} bytes: not read past that")
        else:
            reply = read_reply(status or 0, content, command in NEEDS_BALANCE)
        return self._logged(
            agent, command, body, attempt, reply, status, content, duration, error, None, note, extra
        )

    def _logged(
        self,
        agent: Agent,
        command: str,
        body: dict[str, Any],
        attempt: int,
        reply: Reply,
        status: int | None,
        content: bytes,
        duration: float,
        error: str,
        outcome: CallbackOutcome | None,
        note: str = "",
        extra: dict[str, Any] | None = None,
    ) -> Attempt:
        entry = self.log.add(
            CallbackEntry(
                entry_id=self.log.next_id(),
                agent_id=agent.agent_id,
                time=self._clock.now().isoformat().replace("+00:00", "Z"),
                command=command,
                url=agent.settings.callback_url,
                request=body,
                attempt=attempt,
                outcome=outcome or outcome_of(reply),
                result=reply.result,
                status=status,
                reply=content[: CallbackLog.MAX_REPLY].decode("utf-8", "replace"),
                error=error or reply.problem,
                duration_ms=duration,
                extra={**(extra or {}), **({"note": note} if note else {})},
            )
        )
        return Attempt(command, body, reply, status, duration, error or reply.problem, entry.entry_id)

    def authenticate(self, agent: Agent, account: str) -> Decimal:
        """Single-attempt ``authenticate`` (6.9); any failure is ``1015 CALLBACK_ERROR``."""
        attempt = self.send(agent, "authenticate", {"account": account})
        reply = attempt.reply
        if reply.ok and reply.balance is not None:
            return reply.balance
        why = reply.problem or f"wallet answered result {reply.result}"
        raise SimError(ResultCode.CALLBACK_ERROR, f"authenticate for {account!r} failed: {why}")
