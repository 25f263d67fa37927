"""The addresses the server really listens on, and whether any of them is reachable from outside.

Whether ``/admin``, ``/control`` and ``/backoffice`` need the admin token is decided from
these, not from ``SCORPIO_SIM_BIND`` alone (issue 15): gunicorn also takes ``--bind`` and
``GUNICORN_CMD_ARGS="--bind ..."``, as Docker and orchestrators use, and only the sockets
it bound know the truth.  gunicorn's ``post_fork`` hook (``gunicorn.conf.py``) announces
the worker's listening sockets here before the application is loaded;
:mod:`simulator.wsgi` reads them.  Loaded any other way (another server, ``--preload``),
the listeners are unknown and the simulator protects itself as if it were exposed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

#: What :mod:`simulator.wsgi` is told when no gunicorn hook announced the listeners.
UNKNOWN = "unknown"

_announced: tuple[str, ...] | None = None


def announce(addresses: Iterable[str]) -> None:
    """Called by gunicorn's ``post_fork`` hook in the worker, before the app is loaded."""
    global _announced
    _announced = tuple(addresses)


def announced() -> tuple[str, ...] | None:
    """The announced listeners, or None when nothing announced them."""
    return _announced


def describe(sock: Any) -> str:
    """``127.0.0.1:8080``, ``[::1]:8080`` or ``unix:/path`` for a bound socket."""
    name = sock.getsockname()
    family = getattr(sock, "family", None)
    if family == socket.AF_UNIX or isinstance(name, str | bytes):
        path = name.decode(errors="replace") if isinstance(name, bytes) else name
        return f"unix:{path}"
    host, port = name[0], name[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def of_gunicorn_worker(worker: Any) -> tuple[str, ...]:
    """The listening sockets of a gunicorn worker (``worker.sockets``), described."""
    return tuple(describe(listener) for listener in worker.sockets)


def host_of(address: str) -> str:
    """The host of ``host:port`` or ``[v6]:port``, without brackets."""
    if address.startswith("["):
        return address[1 : address.find("]")] if "]" in address else address[1:]
    host, separator, _ = address.rpartition(":")
    return host if separator else address


def is_local(address: str) -> bool:
    """Reachable only from this machine: a loopback address or a Unix socket.

    ``0.0.0.0``, ``::``, any other address, a host name and an unknown listener are not.
    """
    if address.startswith("unix:"):
        return True
    host = host_of(address)
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def all_local(addresses: Iterable[str]) -> bool:
    addresses = tuple(addresses)
    return bool(addresses) and all(is_local(address) for address in addresses)
