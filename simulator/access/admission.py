"""The start and the end of a ``/v4`` call: its world, its agent, its in-flight slot, its journal entry.

The guards run in the spec's order (spec 3.1, :mod:`.guards`): 1009 unknown
token, 2001 disabled agent, 1020 IP not allowed, 1018 too many in flight.

- :class:`LocalGate` (the memory store) runs them as local steps.
- :class:`RedisGate` starts a call with one round trip: a script that reads the
  current world's epoch and the shared parts' version, finds the token's agent
  and takes an in-flight lease (:meth:`RedisInflightLimiter.admit`); and ends it
  with one more: the lease back and the journal entry in one pipeline.  With the
  call's own store operation that is three round trips for a read or a deposit
  (issue 14).  A lease taken for a request the guards then refuse (a disabled
  agent, an IP not allowed) is given back at the end like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..codes import ResultCode, SimError
from ..domain.models import Agent
from ..domain.store import secret_key
from ..harness.journal import JournalCall
from . import guards

if TYPE_CHECKING:
    from ..runtime import Simulator, World

log = logging.getLogger("simulator.api")


@dataclass(frozen=True, slots=True)
class Admitted:
    """A call let in: the world it runs on, its agent, and the in-flight slot it holds.

    ``admit`` calls ``seen`` with the agent as soon as the token names one, so a
    refusal by a later guard (2001, 1020, 1018) is journaled under that agent.
    """

    world: World
    agent: Agent
    slot: str | None


def _busy(limit: int) -> SimError:
    return SimError(ResultCode.SERVER_IS_BUSY, f"more than {limit} requests of this agent in flight")


def _check(agent: Agent, ip: str) -> None:
    if agent.settings.disabled:
        raise SimError(ResultCode.AGENT_NOT_FOUND, f"agent {agent.name} is disabled")
    guards.check_ip(agent, ip)


class LocalGate:
    """The guards on the memory store: every step in this process."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def admit(self, token: str, ip: str, seen: Callable[[Agent], None]) -> Admitted:
        sim = self.sim
        world = sim.world
        agent = guards.agent_for_token(world.store, token)
        seen(agent)
        guards.check_ip(agent, ip)
        slot = ip if sim.settings.inflight_scope == "ip" else f"agent:{agent.agent_id}"
        if not sim.limiter.acquire(slot):
            raise _busy(sim.limiter.limit)
        return Admitted(world, agent, slot)

    def finish(self, slot: str | None, call: JournalCall) -> None:
        if slot is not None:
            self.sim.limiter.release(slot)
        self.sim.journal.record(call)


class RedisGate:
    """The guards on Redis: one round trip to start a call, one to end it (see the module docstring)."""

    def __init__(self, sim: Simulator, wire: Any) -> None:
        self.sim = sim
        #: The store's :class:`~simulator.store.redis_wire.Wire`: a call's end is one pipeline on it.
        self._wire = wire

    def admit(self, token: str, ip: str, seen: Callable[[Agent], None]) -> Admitted:
        sim = self.sim
        scope = ip if sim.settings.inflight_scope == "ip" else ""
        found = sim.limiter.admit(secret_key(token).hex(), scope)  # type: ignore[union-attr]
        world = sim.adopt(found.epoch, found.version)
        if found.agent_fields is None:
            raise SimError(ResultCode.TOKEN_INVALID, "the API token matches no agent")
        agent = world.store.agent_from_fields(found.agent_fields)  # type: ignore[attr-defined]
        seen(agent)
        try:
            _check(agent, ip)
        except SimError:
            if found.slot is not None:
                sim.limiter.release(found.slot)
            raise
        if not found.granted:
            raise _busy(sim.limiter.limit)
        return Admitted(world, agent, found.slot)

    def finish(self, slot: str | None, call: JournalCall) -> None:
        commands: list[tuple[Any, ...]] = self.sim.journal.record_commands(call)  # type: ignore[attr-defined]
        if slot is not None:
            release = self.sim.limiter.release_command(slot)  # type: ignore[union-attr]
            if release is not None:
                commands.insert(0, release)
        if not commands:
            return
        try:
            for reply in self._wire.pipeline(commands):
                if isinstance(reply, Exception):
                    raise reply
        except Exception:  # the lease expires by itself; the entry is lost, not the answer
            log.warning("in-flight slot or journal entry not written", exc_info=True)
