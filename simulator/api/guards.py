"""The guards every ``/v4`` request passes, in the spec's order (spec 3.1).

1007 token present -> 1009 token known -> 2001 agent usable -> 1020 IP allowed
-> 1018 in-flight limit -> (fault rules) -> 1 maintenance -> 1002 body.
The last two run in :mod:`simulator.api.dispatch`; these are the first five.
"""

from __future__ import annotations

import functools
import ipaddress

from ..codes import ResultCode, SimError
from ..domain.models import Agent
from ..store import MemoryStore


def bearer_token(authorization: str | None) -> str:
    """1007 unless the header is ``Bearer <token>`` with a non-empty token."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SimError(ResultCode.TOKEN_NOT_FOUND, "missing 'Authorization: Bearer <API token>' header")
    return token.strip()


def agent_for_token(store: MemoryStore, token: str) -> Agent:
    """1009 for an unknown token (exact, case-sensitive), 2001 for a disabled agent."""
    agent = store.agent_by_token(token)
    if agent is None:
        raise SimError(ResultCode.TOKEN_INVALID, "the API token matches no agent")
    if agent.settings.disabled:
        raise SimError(ResultCode.AGENT_NOT_FOUND, f"agent {agent.name} is disabled")
    return agent


@functools.lru_cache(maxsize=4096)
def normalise_ip(text: str) -> str | None:
    """Canonical form of an address (IPv4-mapped IPv6 becomes IPv4); None if not an IP.

    Cached: every request normalises its peer, and peers repeat.
    """
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def allow_list(allowed_ips: str) -> list[str]:
    """The entries of an allow-list setting (addresses separated by spaces or newlines)."""
    return [item for item in allowed_ips.replace(",", " ").split() if item]


def client_ip(remote_addr: str | None, forwarded_for: str | None, trust_proxy: bool) -> str:
    """The TCP peer, or the left-most ``X-Forwarded-For`` address when the proxy is trusted."""
    if trust_proxy and forwarded_for:
        for candidate in forwarded_for.split(","):
            address = normalise_ip(candidate)
            if address:
                return address
    peer = remote_addr or ""
    return normalise_ip(peer) or peer


def check_ip(agent: Agent, ip: str) -> None:
    """1020 when the agent's non-empty allow-list lacks the client IP."""
    entries = allow_list(agent.settings.allowed_ips)
    if not entries:
        return
    if ip not in {normalise_ip(e) or e for e in entries}:
        raise SimError(ResultCode.IP_NOT_ALLOWED, f"{ip} is not in agent {agent.name}'s allowed IPs")
