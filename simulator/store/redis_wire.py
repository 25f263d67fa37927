"""The ``/v4`` hot path's Redis commands, sent straight on connections of the client's pool (issue 14).

redis-py's ``execute_command`` wraps each command in work a simulator call does
not need; measured, it cost a Redis worker more CPU than the simulator's own
code.  :class:`Wire` keeps redis-py's connections, retry policy and health
checks, and skips the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import socket
import threading
import weakref
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: ``json.dumps(value, separators=(",", ":"))`` without building an encoder per call: what the
#: hot path writes into Redis (journal entries, record fields).
compact_json = json.JSONEncoder(separators=(",", ":")).encode

_fork_generation = 0


def _forked() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_forked)


def forks() -> int:
    """How many times this process's ancestry forked since this module was imported: a changed
    value tells per-process state (connections, leases) it now lives in a child."""
    return _fork_generation


class Wire:
    """Commands sent straight on connections of a client's pool: the ``/v4`` hot path (issue 14).

    redis-py's ``execute_command`` wraps each command in work a simulator call
    does not need (a pool checkout and check-in with their pid checks and
    metrics, response callbacks, a ``Script`` object's lookups), which cost a
    Redis worker more CPU than its own code.  Here connections taken from the
    client's pool stay with the wire - the idle ones in a list, whose ``pop`` and
    ``append`` are atomic - and each exchange is the connection's own
    ``send_packed_command`` and ``read_response``: same socket options, same
    retry policy (the connection's ``retry``, as redis-py uses it).  Replies are
    raw: ``HGETALL`` answers a flat list.  The client's ``close`` disconnects
    these connections with the others (the pool counts them as in use); a forked
    child leaves its parent's alone.
    """

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._idle: list[Any] = []
        self._generation = _fork_generation
        named = inspect.signature(self._pool.get_connection).parameters.get("command_name")
        #: redis-py before 5.3 wants a command name there (ignored); later ones deprecate it.
        self._checkout_args = ("EVALSHA",) if named and named.default is inspect.Parameter.empty else ()

    @classmethod
    def of(cls, client: Any) -> Wire:
        """The one wire of ``client`` (the store, the limiter and the gate share its connections)."""
        wire = _WIRES.get(client)
        if wire is None:
            with _WIRES_LOCK:
                wire = _WIRES.get(client)
                if wire is None:
                    wire = _WIRES[client] = cls(client)
        return wire

    def _take(self) -> Any:
        if self._generation != _fork_generation:
            self._idle = []
            self._generation = _fork_generation
        try:
            conn = self._idle.pop()
        except IndexError:
            return self._pool.get_connection(*self._checkout_args)
        _drop_if_closed(conn)
        return conn

    def call(self, *args: Any) -> Any:
        """One command's raw reply; an error reply is raised (``ResponseError``)."""
        conn = self._take()
        try:
            packed = conn.pack_command(*args)
            return conn.retry.call_with_retry(
                lambda: _exchange(conn, packed), lambda _error: conn.disconnect()
            )
        except BaseException as error:
            if not isinstance(error, ResponseError):  # an error reply is read whole; else a reply
                conn.disconnect()  # may be left unread: the socket is not used as it is again
            raise
        finally:
            self._idle.append(conn)  # disconnected, it connects again on its next send

    def pipeline(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Several commands in one write and one round trip; an error reply is returned in its place."""
        conn = self._take()
        try:
            packed = conn.pack_commands(commands)
            return conn.retry.call_with_retry(
                lambda: _exchange_all(conn, packed, len(commands)), lambda _error: conn.disconnect()
            )
        except BaseException:
            conn.disconnect()
            raise
        finally:
            self._idle.append(conn)

    def script(self, script: Script, *args: Any) -> Any:
        """``EVALSHA`` with no keys; on ``NOSCRIPT`` (a restarted or flushed Redis) load it and run again."""
        try:
            return self.call("EVALSHA", script.sha, 0, *args)
        except NoScriptError:
            self.call("SCRIPT", "LOAD", script.source)
            return self.call("EVALSHA", script.sha, 0, *args)


_WIRES: weakref.WeakKeyDictionary[Any, Wire] = weakref.WeakKeyDictionary()
_WIRES_LOCK = threading.Lock()


_TCP_INFO = getattr(socket, "TCP_INFO", None)
_TCP_ESTABLISHED = 1


def _drop_if_closed(conn: Any) -> None:
    """Disconnect an idle connection the server closed (a restart, its ``timeout``, ``CLIENT KILL``),
    so that it connects again on its next send, as redis-py's pool does at each checkout.

    The pool reads the socket without blocking (two ``settimeout`` and a ``recv`` that hands the
    GIL to another thread); here one ``getsockopt`` reads the TCP state, keeping the GIL.  Not
    TCP (a Unix socket): the pool's own check.
    """
    sock = conn._sock
    if sock is None:
        return
    if _TCP_INFO is not None:
        try:
            state = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 1)[0]
        except OSError:
            pass
        else:
            if state != _TCP_ESTABLISHED:
                conn.disconnect()
            return
    try:
        if not conn.can_read():
            return
    except (RedisConnectionError, RedisTimeoutError, OSError):
        pass
    conn.disconnect()


def _exchange(conn: Any, packed: Any) -> Any:
    conn.send_packed_command(packed)  # with the health check a client configured, as redis-py's
    return conn.read_response()


def _exchange_all(conn: Any, packed: Any, count: int) -> list[Any]:
    conn.send_packed_command(packed)
    replies: list[Any] = []
    for _ in range(count):
        try:
            replies.append(conn.read_response())
        except ResponseError as error:  # the reply was read: the next ones follow
            replies.append(error)
    return replies


@dataclasses.dataclass(frozen=True)
class Script:
    """A Lua script as :meth:`Wire.script` runs it: its source and that source's SHA-1."""

    source: str
    sha: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())
