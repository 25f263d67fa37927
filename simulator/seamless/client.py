"""The callback client: pooled HTTP/1.1 keep-alive connections to integrators' wallets (spec
6.1, 6.9, 13.1).

A callback to a wallet reached directly goes through the lean :mod:`.transport` with the
bytes :mod:`.wire` builds - the same ``requests`` sent, ``Callback-Token`` in that case for
PHP handlers; one behind a proxy (or a URL a test mounted an adapter for) goes through
``requests`` (:mod:`.proxied`).  Either way the command's timeout is a deadline for the whole
exchange and a reply is read up to :data:`MAX_REPLY_BYTES`.  Every attempt goes to the
callback log; ``callback:<command>`` fault rules (``delay_ms``, ``duplicate``, ``skip``) act
here.  Callers never hold a lock while a call is on the wire.
"""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import certifi

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..domain.enums import CallbackOutcome
from ..domain.models import Agent
from ..money import json_default
from .framing import ChunkedEncodingError, ContentDecodingError
from .log import CallbackEntry, CallbackLog
from .protocol import check_for
from .proxied import ProxiedSession, ca_bundle
from .replies import Reply, read_reply
from .transport import Connections
from .wire import InvalidHeader, Route, route_for

#: Per-command timeouts in seconds (spec 6.9): each a deadline for the whole exchange -
#: connect, send and the full reply (issue 15), not for each read.
TIMEOUTS = {"bet": 2.0, "balance": 2.0}
DEFAULT_TIMEOUT = 4.0
#: The largest reply read (issue 15): past it the reply is garbage (6.8) and the rest is never
#: read, so a wallet answering 100 MB costs no more memory than one answering 1 MiB.
MAX_REPLY_BYTES = 1 << 20
#: Commands whose successful reply must carry ``data.balance``.
NEEDS_BALANCE = {"authenticate", "balance", "bet", "win", "cancel"}
JSON = "application/json"
#: Routes remembered per callback URL (a URL seen again is one dict lookup).
_ROUTES_KEPT = 1024

FaultFirer = Callable[[str | None, str], list[dict]]
#: The request body's JSON, compact, amounts as numbers: one encoder for every callback
#: (``json.dumps`` with arguments builds a new one per call).
_encode = json.JSONEncoder(default=json_default, separators=(",", ":"), check_circular=False).encode


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


def tls_context() -> ssl.SSLContext:
    """Verification against the CA bundle ``requests`` would use, offering HTTP/1.1 only."""
    bundle = ca_bundle()
    if not isinstance(bundle, str):
        context = ssl.create_default_context(cafile=certifi.where())
    elif os.path.isdir(bundle):
        context = ssl.create_default_context(capath=bundle)
    else:
        context = ssl.create_default_context(cafile=bundle)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _entry_extra(extra: dict[str, Any] | None, note: str) -> dict[str, Any]:
    """A log entry's own copy of ``extra``, with the ``note`` if any."""
    copy = dict(extra) if extra else {}
    if note:
        copy["note"] = note
    return copy


def failure_text(exc: BaseException) -> str:
    """What the callback log shows for a failed exchange, in the words ``requests`` used."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return "connection failed: SSLError"
    if isinstance(exc, ChunkedEncodingError | ContentDecodingError | InvalidHeader):
        return f"connection failed: {exc.__class__.__name__}"
    return "connection failed: ConnectionError"


def outcome_of(reply: Reply) -> CallbackOutcome:
    if not reply.usable:
        return CallbackOutcome.UNCLEAR
    return CallbackOutcome.OK if reply.result == 0 else CallbackOutcome.REFUSED


class CallbackClient:
    def __init__(self, clock: Clock, log: CallbackLog, faults: FaultFirer, pool_size: int = 256) -> None:
        self._clock = clock
        self.log = log
        self._faults = faults
        self._direct = Connections(tls_context, per_origin=pool_size)
        self._proxied = ProxiedSession(pool_size)
        self._routes: dict[str, Route | None] = {}

    def mount(self, prefix: str, adapter: Any) -> None:
        """Send the callbacks of URLs starting with ``prefix`` through this ``requests`` adapter
        (an in-process wallet in tests)."""
        self._proxied.mount(prefix, adapter)
        self._routes.clear()

    def _route(self, url: str) -> Route | None:
        """The lean path's route for ``url``, or None for ``requests``; worked out once per URL."""
        try:
            return self._routes[url]
        except KeyError:
            pass
        route = None if self._proxied.mounted(url) else route_for(url)
        if len(self._routes) >= _ROUTES_KEPT:
            self._routes.clear()
        self._routes[url] = route
        return route

    def close(self) -> None:
        """Close the idle connections to wallets."""
        self._direct.close()

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
        if not effects:
            return self._post(agent, command, body, attempt, token, extra=extra)
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
        payload = _encode(body).encode()
        token = agent.settings.callback_token if token is None else token
        timeout = TIMEOUTS.get(command, DEFAULT_TIMEOUT)
        route = self._route(url)
        started = time.perf_counter()
        if route is None:
            headers = {"Callback-Token": token, "Content-Type": JSON, "Accept": JSON}
            status, content, too_big, error = self._proxied.post(
                url, payload, headers, timeout, MAX_REPLY_BYTES
            )
        else:
            status, content, too_big, error = self._post_direct(route, token, payload, timeout)
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

    def _post_direct(
        self, route: Route, token: str, payload: bytes, timeout: float
    ) -> tuple[int | None, bytes, bool, str]:
        deadline = time.monotonic() + timeout
        try:
            reply = self._direct.post(route.origin, route.request(token, payload), deadline, MAX_REPLY_BYTES)
        except (OSError, InvalidHeader) as exc:  # timeouts and transport errors are OSErrors
            return None, b"", False, failure_text(exc)
        return reply.status, reply.body, reply.too_big, ""

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
                extra=_entry_extra(extra, note),
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
