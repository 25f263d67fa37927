"""The whole simulator state as JSON, and back (``/control/snapshot``, ``/control/restore``).

A snapshot holds everything a restart would otherwise lose: the agent tree
with its settings and tokens, users and balances, the transaction history and
point movements, launch URLs and game sessions, rounds and statistics, bonus
calls and free rounds, id counters, the RTP engine's decks (play continues
exactly where it stood), forced outcomes, the clock, fault rules, the journal,
the callback log, the stamp allocator and the ``win``/``cancel`` callbacks
still waiting for a retry (pending ones are retried after a restore, failed
ones can still be replayed).  The catalogue is included, so a snapshot does
not depend on the fixture directory it was made from.

Taking a snapshot waits until no round is half-played (see
``MemoryStore.quiesced``); restoring builds a complete new world first,
checks it (records refer to agents and users that exist, id counters lie past
every id, money is conserved) and only then swaps it in, so a bad snapshot
changes nothing.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import itertools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields

from .. import __version__
from ..control.faults import FaultRule
from ..control.journal import JournalEntry
from ..domain.catalogue import Catalogue, Game, Provider
from ..domain.models import (
    Agent,
    BonusCall,
    FreeRoundGrant,
    GameSession,
    LaunchToken,
    PointTransaction,
    Round,
    RoundStat,
    Transaction,
    User,
)
from ..jsonsafe import json_problem
from ..seamless.client import Attempt
from ..seamless.log import CallbackEntry
from ..seamless.protocol import TransactionIds
from ..seamless.replies import Reply
from ..seamless.retry import RetryJob
from ..store import MemoryStore
from .codec import ExactDecimal, dump_all, load_all, schema_for

if TYPE_CHECKING:
    from ..runtime import Simulator, World

FORMAT = "scorpio-sim-snapshot"
VERSION = 1
#: How long a snapshot waits for running rounds (a seamless round waits on the wallet).
QUIET_TIMEOUT = 30.0
#: A snapshot nests about eight levels; anything far deeper is not one.
SNAPSHOT_DEPTH = 64

_ROUND = {
    ("Round", "callback_ids"): fields.Dict(
        keys=fields.String(), values=fields.Nested(schema_for(TransactionIds)), load_default=dict
    )
}


class SnapshotError(ValueError):
    """A snapshot that cannot be restored; the message names the part that is wrong."""


@dataclass
class Sidecars:
    """What lives beside the world in the simulator, parsed and checked from a snapshot."""

    clock: tuple[float, float | None]
    link_secret: bytes
    stamps: int
    faults: tuple[int, dict[int, FaultRule]]
    journal: list[JournalEntry]
    callbacks: list[CallbackEntry]
    next_callback_id: int


@dataclass
class Restored:
    """A world built from a snapshot, plus its sidecars, ready to be swapped in."""

    world: World
    sidecars: Sidecars
    jobs: list[RetryJob]


# -- taking ---------------------------------------------------------------------------------
def capture(sim: Simulator, timeout: float = QUIET_TIMEOUT) -> dict[str, Any]:
    """The whole state as JSON-ready values; ``TimeoutError`` if rounds keep running.

    Play waits only while records are copied; they are turned into JSON after.
    """
    world = sim.world
    store = world.store
    with store.quiesced(timeout):
        offset, frozen_at = sim.clock.state()
        taken_at = sim.clock.now().isoformat().replace("+00:00", "Z")
        records = _copy_store(store)
        maintenance = world.catalogue.maintenance_state()
        forced = world.forced.export()
        decks = world.engine.export_decks()
        stamps = sim.stamps.state()
        retries = [_job(job) for job in sim.retries.outstanding()]
    return {
        "format": FORMAT,
        "version": VERSION,
        "simulator_version": __version__,
        "taken_at": taken_at,
        "seed": world.seed,
        "fixtures": str(world.fixtures_dir),
        "clock": {"offset": offset, "frozen_at": frozen_at},
        "link_secret": base64.b64encode(sim.link_secret).decode("ascii"),
        "catalogue": {
            "providers": dump_all(Provider, world.catalogue.providers.values()),
            "games": dump_all(Game, world.catalogue.games.values()),
            "maintenance": maintenance,
        },
        "store": _dump_store(records),
        "forced_outcomes": forced,
        "rtp_decks": decks,
        "stamps": stamps,
        "retries": retries,
        "faults": sim.faults.export_state(),
        "journal": dump_all(JournalEntry, sim.journal.entries()),
        "callback_log": {
            "next_id": sim.callback_log.peek_id(),
            "entries": dump_all(CallbackEntry, sim.callback_log.entries()),
        },
    }


def _detached(record: Any) -> Any:
    """A copy that later changes to ``record`` (balances, statuses, lists) do not reach."""
    clone = copy.copy(record)
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if isinstance(value, list | dict):
            setattr(clone, item.name, copy.copy(value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            setattr(clone, item.name, _detached(value))
    return clone


def _amounts(values: dict[int, Decimal]) -> dict[str, str]:
    return {str(key): str(value) for key, value in values.items()}


def _copy_store(store: MemoryStore) -> dict[str, Any]:
    """Everything of the store, copied (mutable records) or listed (rows never change)."""
    return {
        "sequences": {name: sequence.peek() for name, sequence in store.sequences().items()},
        "agents": [_detached(a) for a in sorted(store.agents.values(), key=lambda a: a.agent_id)],
        "users": [_detached(u) for u in store.users.values()],
        "transactions": list(itertools.chain.from_iterable(store.transactions.values())),
        "point_transactions": list(store.point_transactions),
        "launch_tokens": [_detached(t) for t in store.launch_tokens.values()],
        "sessions": [_detached(s) for s in store.sessions.values()],
        "rounds": [_detached(r) for rounds in store.rounds.values() for r in rounds.values()],
        "round_stats": {agent_id: list(stats) for agent_id, stats in store.round_stats.items() if stats},
        "house_net": _amounts(store.house_net),
        "purged_movement": _amounts(store.purged_movement),
        "held_points": _amounts(store.held_points),
        "poll_marks": [
            {"agent_id": agent_id, "key": key, "at": at}
            for agent_id, marks in store.poll_marks.items()
            for key, at in marks.items()
        ],
        "bonus_calls": [_detached(c) for c in store.bonus_calls.values()],
        "free_rounds": [_detached(g) for g in store.free_rounds.values()],
    }


def _dump_store(records: dict[str, Any]) -> dict[str, Any]:
    kinds = {
        "agents": Agent,
        "users": User,
        "transactions": Transaction,
        "point_transactions": PointTransaction,
        "launch_tokens": LaunchToken,
        "sessions": GameSession,
        "bonus_calls": BonusCall,
        "free_rounds": FreeRoundGrant,
    }
    dumped = dict(records)
    for key, kind in kinds.items():
        dumped[key] = dump_all(kind, records[key])
    dumped["rounds"] = dump_all(Round, records["rounds"], _ROUND)
    dumped["round_stats"] = {
        str(agent_id): dump_all(RoundStat, stats) for agent_id, stats in records["round_stats"].items()
    }
    return dumped


def _job(job: RetryJob) -> dict[str, Any]:
    command, _, round_id = job.key.partition(":")
    return {
        "agent": job.agent.name,
        "command": command,
        "round_id": round_id,
        "body": job.body,
        "attempts": job.attempts,
        "state": job.state,
        # The callback log entry of the last attempt: what a replay of a "Win Error" names.
        "last_entry_id": job.last.entry_id if job.last is not None else None,
    }


# -- restoring ------------------------------------------------------------------------------
def _section(data: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    if key not in data:
        raise SnapshotError(f"{where}{key}: missing")
    value = data[key]
    if not isinstance(value, kind):
        raise SnapshotError(f"{where}{key}: must be a JSON {'object' if kind is dict else 'list'}")
    return value


def check_header(data: Any) -> None:
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot must be a JSON object")
    problem = json_problem(data, SNAPSHOT_DEPTH)
    if problem:
        raise SnapshotError(f"the snapshot {problem}")
    if data.get("format") != FORMAT:
        raise SnapshotError(f"format: must be {FORMAT!r} (is this a snapshot from GET /control/snapshot?)")
    if data.get("version") != VERSION:
        raise SnapshotError(
            f"version: this simulator reads snapshot version {VERSION}, not {data.get('version')!r}"
        )


def build(sim: Simulator, data: Any) -> Restored:
    """A new world from a snapshot, checked; ``SnapshotError`` says what is wrong."""
    check_header(data)
    try:
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise SnapshotError("seed: must be an integer")
        catalogue = _load_catalogue(_section(data, "catalogue", dict))
        store = _load_store(_section(data, "store", dict), catalogue, sim.new_store())
        world = sim.assemble_world(store, catalogue, Path(str(data.get("fixtures", ""))), seed)
        world.forced.load(_section(data, "forced_outcomes", list))
        world.engine.import_decks(_section(data, "rtp_decks", list))
        jobs = [_resume(world, number, job) for number, job in enumerate(_section(data, "retries", list))]
        sidecars = _sidecars(sim, data)
    except KeyError as exc:
        raise SnapshotError(f"{exc.args[0]}: missing") from None
    except SnapshotError:
        raise
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise SnapshotError(str(exc)) from None
    audit = world.ledger.audit()
    if not audit.conserved:
        raise SnapshotError(
            "store: the snapshot does not conserve money "
            f"(issued {audit.issued}, points {audit.points}, balances {audit.balances}, house {audit.house}, "
            f"held {audit.held}; users whose history does not add up: {list(audit.mismatched_users)[:10]})"
        )
    return Restored(world, sidecars, jobs)


def catalogue_state(catalogue: Catalogue) -> dict[str, Any]:
    """The catalogue as JSON values: providers, games and maintenance (snapshots, Redis worlds)."""
    return {
        "providers": dump_all(Provider, catalogue.providers.values()),
        "games": dump_all(Game, catalogue.games.values()),
        "maintenance": catalogue.maintenance_state(),
    }


def load_catalogue_state(data: dict[str, Any]) -> Catalogue:
    return _load_catalogue(data)


def _load_catalogue(data: dict[str, Any]) -> Catalogue:
    providers = load_all(Provider, _section(data, "providers", list, "catalogue."), "catalogue.providers")
    games = load_all(Game, _section(data, "games", list, "catalogue."), "catalogue.games")
    catalogue = Catalogue(providers, games)
    maintenance = _section(data, "maintenance", dict, "catalogue.")
    try:
        if maintenance.get("platform"):
            catalogue.set_maintenance("platform", True)
        for provider_id in maintenance.get("providers", []):
            catalogue.set_maintenance(f"provider:{provider_id}", True)
        for game in maintenance.get("games", []):
            catalogue.set_maintenance(f"game:{game}", True)
    except ValueError as exc:
        raise SnapshotError(f"catalogue.maintenance: {exc}") from None
    return catalogue


def _decimal_map(data: dict[str, Any], key: str) -> dict[int, Decimal]:
    result: dict[int, Decimal] = {}
    for raw_key, raw_value in _section(data, key, dict, "store.").items():
        try:
            owner, amount = int(raw_key), ExactDecimal().deserialize(raw_value)
        except (ValueError, ValidationError):
            raise SnapshotError(f"store.{key}[{raw_key!r}]: must map an id to an amount") from None
        result[owner] = amount
    return result


def _load_store(data: dict[str, Any], catalogue: Catalogue, store: MemoryStore) -> MemoryStore:
    """Fill ``store`` (new and empty: the backend's kind) from a snapshot's ``store`` part."""
    agents = load_all(Agent, _section(data, "agents", list, "store."), "store.agents")
    for agent in sorted(agents, key=lambda a: a.agent_id):
        if (
            agent.agent_id in store.agents
            or store.agent_by_name(agent.name)
            or store.agent_by_token(agent.api_token)
        ):
            raise SnapshotError(
                f"store.agents: agent {agent.agent_id} ({agent.name}) repeats an id, name or token"
            )
        if agent.parent_id is not None and agent.parent_id not in store.agents:
            raise SnapshotError(f"store.agents: agent {agent.name} has unknown parent {agent.parent_id}")
        store.add_agent(agent)

    def agent_of(record: Any, where: str) -> None:
        if record.agent_id not in store.agents:
            raise SnapshotError(f"{where}: refers to unknown agent {record.agent_id}")

    for user in load_all(User, _section(data, "users", list, "store."), "store.users"):
        agent_of(user, f"store.users ({user.user_code})")
        if user.user_code in store.users or store.user_by_name(user.agent_id, user.mode, user.name):
            raise SnapshotError(f"store.users: user {user.user_code} ({user.name}) repeats a code or name")
        store.add_user(user)

    def user_of(record: Any, where: str) -> None:
        agent_of(record, where)
        owner = store.users.get(record.user_code)
        if owner is None or owner.agent_id != record.agent_id:
            raise SnapshotError(
                f"{where}: refers to unknown user {record.user_code} of agent {record.agent_id}"
            )

    for tx in load_all(Transaction, _section(data, "transactions", list, "store."), "store.transactions"):
        user_of(tx, f"store.transactions ({tx.trans_id})")
        store.insert_transaction(tx)
    for ptx in load_all(
        PointTransaction, _section(data, "point_transactions", list, "store."), "store.point_transactions"
    ):
        for agent_id in (ptx.from_agent_id, ptx.to_agent_id):
            if agent_id is not None and agent_id not in store.agents:
                raise SnapshotError(
                    f"store.point_transactions ({ptx.point_trans_id}): unknown agent {agent_id}"
                )
        store.point_transactions.append(ptx)
    for launch in load_all(
        LaunchToken, _section(data, "launch_tokens", list, "store."), "store.launch_tokens"
    ):
        user_of(launch, "store.launch_tokens")
        store.add_launch_token(launch)
    for session in load_all(GameSession, _section(data, "sessions", list, "store."), "store.sessions"):
        user_of(session, f"store.sessions ({session.gplay_id})")
        store.add_session(session)
    for round_ in load_all(Round, _section(data, "rounds", list, "store."), "store.rounds", _ROUND):
        user_of(round_, f"store.rounds ({round_.round_id})")
        store.add_round(round_)
    for raw_id, stats in _section(data, "round_stats", dict, "store.").items():
        agent_id = int(raw_id) if str(raw_id).isdigit() else -1
        if agent_id not in store.agents:
            raise SnapshotError(f"store.round_stats: unknown agent {raw_id!r}")
        for stat in load_all(RoundStat, stats, f"store.round_stats.{raw_id}"):
            store.add_round_stat(agent_id, stat)
    for key in ("house_net", "purged_movement", "held_points"):
        getattr(store, key).update(_decimal_map(data, key))
    for number, mark in enumerate(_section(data, "poll_marks", list, "store.")):
        try:
            store.poll_marks.setdefault(int(mark["agent_id"]), {})[mark["key"]] = float(mark["at"])
        except (KeyError, TypeError, ValueError):
            raise SnapshotError(f"store.poll_marks[{number}]: must be {{agent_id, key, at}}") from None
    for call in load_all(BonusCall, _section(data, "bonus_calls", list, "store."), "store.bonus_calls"):
        user_of(call, f"store.bonus_calls ({call.call_id})")
        store.add_bonus_call(call)
    for grant in load_all(FreeRoundGrant, _section(data, "free_rounds", list, "store."), "store.free_rounds"):
        user_of(grant, f"store.free_rounds ({grant.fr_id})")
        store.add_free_round_grant(grant)
    _load_sequences(_section(data, "sequences", dict, "store."), store)
    return store


def _load_sequences(data: dict[str, Any], store: MemoryStore) -> None:
    used = {
        "agent_ids": list(store.agents),
        "user_codes": list(store.users),
        "trans_ids": [tx.trans_id for rows in store.transactions.values() for tx in rows],
        "point_trans_ids": [p.point_trans_id for p in store.point_transactions],
        "gplay_ids": list(store.sessions),
        "round_ids": [int(r) for rounds in store.rounds.values() for r in rounds if r.isdigit()],
        "call_ids": list(store.bonus_calls),
    }
    for name, sequence in store.sequences().items():
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SnapshotError(f"store.sequences.{name}: must be an integer")
        highest = max(used.get(name, []), default=0)
        if value <= highest:
            raise SnapshotError(f"store.sequences.{name}: {value} would hand out id {highest} again")
        sequence.set(value)


def _resume(world: World, number: int, job: Any) -> RetryJob:
    where = f"retries[{number}]"
    if not isinstance(job, dict):
        raise SnapshotError(f"{where}: must be an object")
    agent = world.store.agent_by_name(str(job.get("agent", "")))
    if agent is None:
        raise SnapshotError(f"{where}.agent: unknown agent {job.get('agent')!r}")
    attempts, state, body = job.get("attempts"), job.get("state"), job.get("body")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        raise SnapshotError(f"{where}.attempts: must be an integer >= 0")
    if state not in ("pending", "failed"):
        raise SnapshotError(f"{where}.state: must be 'pending' or 'failed'")
    if not isinstance(body, dict):
        raise SnapshotError(f"{where}.body: must be the callback's JSON body")
    try:
        resumed = world.seamless.resume_job(
            agent, str(job.get("command")), str(job.get("round_id")), body, attempts
        )
    except KeyError:
        raise SnapshotError(
            f"{where}.round_id: agent {agent.name} has no round {job.get('round_id')!r}"
        ) from None
    except ValueError as exc:
        raise SnapshotError(f"{where}: {exc}") from None
    resumed.state = state
    last_entry_id = job.get("last_entry_id")
    if last_entry_id is not None:
        if isinstance(last_entry_id, bool) or not isinstance(last_entry_id, int) or last_entry_id < 1:
            raise SnapshotError(f"{where}.last_entry_id: must be a callback log entry id or null")
        restored = Reply(False, problem="attempted before the snapshot; see the callback log")
        resumed.last = Attempt(resumed.command, body, restored, None, 0.0, entry_id=last_entry_id)
    return resumed


def _sidecars(sim: Simulator, data: dict[str, Any]) -> Sidecars:
    """Parse and check what lives beside the world, before anything is replaced."""
    clock = _section(data, "clock", dict)
    for key in ("offset", "frozen_at"):
        value = clock.get(key)
        if value is None and key == "frozen_at":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise SnapshotError(f"clock.{key}: must be a number of seconds")
    try:
        secret = base64.b64decode(str(data["link_secret"]), validate=True)
    except ValueError:
        raise SnapshotError("link_secret: must be base64") from None
    if len(secret) < 16:
        raise SnapshotError("link_secret: must be at least 16 bytes")
    stamps = data.get("stamps")
    if isinstance(stamps, bool) or not isinstance(stamps, int) or stamps < 0:
        raise SnapshotError("stamps: must be an integer >= 0")
    log = _section(data, "callback_log", dict)
    next_callback_id = log.get("next_id")
    if isinstance(next_callback_id, bool) or not isinstance(next_callback_id, int):
        raise SnapshotError("callback_log.next_id: must be an integer")
    frozen = clock.get("frozen_at")
    return Sidecars(
        clock=(float(clock["offset"]), None if frozen is None else float(frozen)),
        link_secret=secret,
        stamps=stamps,
        faults=sim.faults.parse_state(_section(data, "faults", dict)),
        journal=load_all(JournalEntry, _section(data, "journal", list), "journal"),
        callbacks=load_all(
            CallbackEntry, _section(log, "entries", list, "callback_log."), "callback_log.entries"
        ),
        next_callback_id=next_callback_id,
    )


def install(sim: Simulator, restored: Restored) -> None:
    """Swap the restored world and its companions in (the caller holds the reset lock)."""
    sidecars = restored.sidecars
    sim.clock.restore(sidecars.clock)
    sim.link_secret = sidecars.link_secret
    sim.stamps.restore(sidecars.stamps)
    sim.faults.install_state(sidecars.faults)
    sim.journal.replace(sidecars.journal)
    sim.callback_log.replace(sidecars.callbacks, sidecars.next_callback_id)
    sim.retries.clear()
    sim.world = restored.world
    sim.retries.adopt(restored.jobs)
