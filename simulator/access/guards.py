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
from ..domain.store import Store


def bearer_token(authorization: str | None) -> str:
    """1007 unless the header is ``Bearer <token>`` with a non-empty token."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SimError(ResultCode.TOKEN_NOT_FOUND, "missing 'Authorization: Bearer <API token>' header")
    return token.strip()


def agent_for_token(store: Store, token: str) -> Agent:
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


ProxyNetworks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@functools.lru_cache(maxsize=16)
def proxy_networks(text: str) -> ProxyNetworks:
    """``SCORPIO_SIM_TRUSTED_PROXIES``: addresses or networks (``10.0.0.0/8``), separated by
    spaces or commas; ValueError names the first entry that is neither."""
    networks = []
    for entry in allow_list(text):
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
        if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped:
            # ::ffff:10.0.0.1 is how a dual-stack socket shows 10.0.0.1; addresses are compared as IPv4.
            mapped = network.network_address.ipv4_mapped
            network = ipaddress.ip_network(f"{mapped}/{max(network.prefixlen - 96, 0)}", strict=False)
        networks.append(network)
    return tuple(networks)


@functools.lru_cache(maxsize=4096)
def _is_proxy(address: str, networks: ProxyNetworks) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == network.version and ip in network for network in networks)


def client_ip(remote_addr: str | None, forwarded_for: str | None, trusted_proxies: str = "") -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy (issue 15).

    From a trusted proxy, ``X-Forwarded-For`` is read from the right - each proxy appends the
    address it saw - and the client is the right-most address that is not a trusted proxy, as
    Werkzeug's ``ProxyFix`` does: whatever a client writes to the left of that is its own claim
    and is ignored.  An entry that is not an address stops the walk at the last trusted hop.
    From any other peer the header is ignored.
    """
    peer = remote_addr or ""
    peer = normalise_ip(peer) or peer
    if not trusted_proxies or not forwarded_for:
        return peer
    networks = proxy_networks(trusted_proxies)
    if not networks or normalise_ip(peer) is None or not _is_proxy(peer, networks):
        return peer
    client = peer
    for candidate in reversed(forwarded_for.split(",")):
        address = normalise_ip(candidate)
        if address is None:
            return client
        client = address
        if not _is_proxy(address, networks):
            return address
    return client  # every hop is a trusted proxy: the left-most one asked


def check_ip(agent: Agent, ip: str) -> None:
    """1020 when the agent's non-empty allow-list lacks the client IP."""
    entries = allow_list(agent.settings.allowed_ips)
    if not entries:
        return
    if ip not in {normalise_ip(e) or e for e in entries}:
        raise SimError(ResultCode.IP_NOT_ALLOWED, f"{ip} is not in agent {agent.name}'s allowed IPs")
