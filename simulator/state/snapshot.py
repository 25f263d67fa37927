"""The whole simulator state as JSON, and back (``/control/snapshot``, ``/control/restore``).

A snapshot holds everything a restart would otherwise lose: the agent tree
with its settings and tokens, users and balances, the transaction history and
point movements, launch URLs and game sessions, rounds and statistics, bonus
calls and free rounds, id counters, the position of every RTP card stream
(``store.rtp_cards``: play continues exactly where it stood), forced
outcomes, the clock, fault rules, the journal, the callback log, the stamp
allocator and the ``win``/``cancel`` callbacks still waiting for a retry
(pending ones are retried after a restore, failed ones can still be replayed).
The catalogue is included, so a snapshot does not depend on the fixture
directory it was made from.

``rtp_decks`` is what snapshots held before ``store.rtp_cards``: each stream's
deck itself.  It is now always written empty (a simulator from before reads
that as "no decks yet" and starts every stream afresh); a snapshot that still
carries decks is restored with each deck translated to its stream position
(:meth:`RtpEngine.legacy_positions`), so its play too continues where it stood.

Taking a snapshot waits until no round is half-played (see
``Store.quiesced``); restoring builds a complete new world first,
checks it (records refer to agents and users that exist, id counters lie past
every id, money is conserved) and only then swaps it in, so a bad snapshot
changes nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields

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
from ..domain.rtp import RtpEngine
from ..domain.store import Seq, Store, StoreState
from ..harness.faults import FaultRule
from ..harness.journal import JournalEntry
from ..jsonsafe import json_problem
from ..seamless.client import Attempt
from ..seamless.log import CallbackEntry
from ..seamless.protocol import TransactionIds
from ..seamless.replies import Reply
from ..seamless.retry import RetryJob
from ..version import __version__
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
        "rtp_decks": [],  # superseded by store.rtp_cards; kept so older simulators still restore
        "stamps": stamps,
        "retries": retries,
        "faults": sim.faults.export_state(),
        "journal": dump_all(JournalEntry, sim.journal.entries()),
        "callback_log": {
            "next_id": sim.callback_log.peek_id(),
            "entries": dump_all(CallbackEntry, sim.callback_log.entries()),
        },
    }


def _amounts(values: dict[int, Decimal]) -> dict[str, str]:
    return {str(key): str(value) for key, value in values.items()}


def _copy_store(store: Store) -> dict[str, Any]:
    """Everything of the store as records (``Store.export`` copies the mutable ones)."""
    state = store.export()
    return {
        "sequences": dict(state.sequences),
        "agents": state.agents,
        "users": state.users,
        "transactions": state.transactions,
        "point_transactions": state.point_transactions,
        "launch_tokens": state.launch_tokens,
        "sessions": state.sessions,
        "rounds": state.rounds,
        "round_stats": {agent_id: list(stats) for agent_id, stats in state.round_stats.items() if stats},
        "house_net": _amounts(state.house_net),
        "purged_movement": _amounts(state.purged_movement),
        "held_points": _amounts(state.held_points),
        "poll_marks": [
            {"agent_id": agent_id, "key": key, "at": at} for agent_id, key, at in state.poll_marks
        ],
        "bonus_calls": state.bonus_calls,
        "free_rounds": state.free_rounds,
        "rtp_cards": dict(state.cards),
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
        legacy = RtpEngine(seed).legacy_positions(
            _section(data, "rtp_decks", list) if "rtp_decks" in data else []
        )
        store = _load_store(_section(data, "store", dict), catalogue, sim.new_store(), legacy)
        world = sim.assemble_world(store, catalogue, Path(str(data.get("fixtures", ""))), seed)
        world.forced.load(_section(data, "forced_outcomes", list))
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


def _load_store(
    data: dict[str, Any], catalogue: Catalogue, store: Store, cards: dict[str, int] | None = None
) -> Store:
    """Fill ``store`` (new and empty: the backend's kind) from a snapshot's ``store`` part.

    Every record is checked against the ones read before it, then the whole
    state goes in with one :meth:`Store.load`.  ``cards`` are RTP stream positions
    translated from a snapshot's old ``rtp_decks``; ``rtp_cards`` wins over them.
    """
    state = StoreState()
    agents: dict[int, Agent] = {}
    agent_names: set[str] = set()
    agent_tokens: set[str] = set()
    for agent in sorted(
        load_all(Agent, _section(data, "agents", list, "store."), "store.agents"), key=lambda a: a.agent_id
    ):
        if agent.agent_id in agents or agent.name.lower() in agent_names or agent.api_token in agent_tokens:
            raise SnapshotError(
                f"store.agents: agent {agent.agent_id} ({agent.name}) repeats an id, name or token"
            )
        if agent.parent_id is not None and agent.parent_id not in agents:
            raise SnapshotError(f"store.agents: agent {agent.name} has unknown parent {agent.parent_id}")
        agents[agent.agent_id] = agent
        agent_names.add(agent.name.lower())
        agent_tokens.add(agent.api_token)
    state.agents = list(agents.values())

    def agent_of(record: Any, where: str) -> None:
        if record.agent_id not in agents:
            raise SnapshotError(f"{where}: refers to unknown agent {record.agent_id}")

    users: dict[int, User] = {}
    user_names: set[tuple[int, str, str]] = set()
    for user in load_all(User, _section(data, "users", list, "store."), "store.users"):
        agent_of(user, f"store.users ({user.user_code})")
        name_key = (user.agent_id, user.mode, user.name.lower())
        if user.user_code in users or name_key in user_names:
            raise SnapshotError(f"store.users: user {user.user_code} ({user.name}) repeats a code or name")
        users[user.user_code] = user
        user_names.add(name_key)
    state.users = list(users.values())

    def user_of(record: Any, where: str) -> None:
        agent_of(record, where)
        owner = users.get(record.user_code)
        if owner is None or owner.agent_id != record.agent_id:
            raise SnapshotError(
                f"{where}: refers to unknown user {record.user_code} of agent {record.agent_id}"
            )

    for tx in load_all(Transaction, _section(data, "transactions", list, "store."), "store.transactions"):
        user_of(tx, f"store.transactions ({tx.trans_id})")
        state.transactions.append(tx)
    for ptx in load_all(
        PointTransaction, _section(data, "point_transactions", list, "store."), "store.point_transactions"
    ):
        for agent_id in (ptx.from_agent_id, ptx.to_agent_id):
            if agent_id is not None and agent_id not in agents:
                raise SnapshotError(
                    f"store.point_transactions ({ptx.point_trans_id}): unknown agent {agent_id}"
                )
        state.point_transactions.append(ptx)
    for launch in load_all(
        LaunchToken, _section(data, "launch_tokens", list, "store."), "store.launch_tokens"
    ):
        user_of(launch, "store.launch_tokens")
        state.launch_tokens.append(launch)
    for session in load_all(GameSession, _section(data, "sessions", list, "store."), "store.sessions"):
        user_of(session, f"store.sessions ({session.gplay_id})")
        state.sessions.append(session)
    for round_ in load_all(Round, _section(data, "rounds", list, "store."), "store.rounds", _ROUND):
        user_of(round_, f"store.rounds ({round_.round_id})")
        state.rounds.append(round_)
    for raw_id, stats in _section(data, "round_stats", dict, "store.").items():
        agent_id = int(raw_id) if str(raw_id).isdigit() else -1
        if agent_id not in agents:
            raise SnapshotError(f"store.round_stats: unknown agent {raw_id!r}")
        state.round_stats.setdefault(agent_id, []).extend(
            load_all(RoundStat, stats, f"store.round_stats.{raw_id}")
        )
    state.house_net = _decimal_map(data, "house_net")
    state.purged_movement = _decimal_map(data, "purged_movement")
    state.held_points = _decimal_map(data, "held_points")
    for number, mark in enumerate(_section(data, "poll_marks", list, "store.")):
        try:
            key = mark["key"]
            hash(key)  # a poll key indexes a dict
            state.poll_marks.append((int(mark["agent_id"]), key, float(mark["at"])))
        except (KeyError, TypeError, ValueError):
            raise SnapshotError(f"store.poll_marks[{number}]: must be {{agent_id, key, at}}") from None
    for call in load_all(BonusCall, _section(data, "bonus_calls", list, "store."), "store.bonus_calls"):
        user_of(call, f"store.bonus_calls ({call.call_id})")
        state.bonus_calls.append(call)
    for grant in load_all(FreeRoundGrant, _section(data, "free_rounds", list, "store."), "store.free_rounds"):
        user_of(grant, f"store.free_rounds ({grant.fr_id})")
        state.free_rounds.append(grant)
    state.sequences = _load_sequences(_section(data, "sequences", dict, "store."), state)
    state.cards = {**(cards or {}), **_load_cards(data)}
    store.load(state)
    return store


def _load_cards(data: dict[str, Any]) -> dict[str, int]:
    """``store.rtp_cards``: stream name -> next position (absent from snapshots made before it)."""
    if "rtp_cards" not in data:
        return {}
    cards: dict[str, int] = {}
    for stream, position in _section(data, "rtp_cards", dict, "store.").items():
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise SnapshotError(f"store.rtp_cards[{stream!r}]: must be a card position (an integer >= 0)")
        cards[stream] = position
    return cards


def _load_sequences(data: dict[str, Any], state: StoreState) -> dict[str, int]:
    """The id counters of a snapshot, each past every id of its kind in ``state``."""
    used: dict[str, list[int]] = {
        Seq.AGENT: [a.agent_id for a in state.agents],
        Seq.USER: [u.user_code for u in state.users],
        Seq.TRANS: [tx.trans_id for tx in state.transactions],
        Seq.POINT_TRANS: [p.point_trans_id for p in state.point_transactions],
        Seq.GPLAY: [s.gplay_id for s in state.sessions],
        Seq.ROUND: [int(r.round_id) for r in state.rounds if r.round_id.isdigit()],
        Seq.CALL: [c.call_id for c in state.bonus_calls],
    }
    sequences: dict[str, int] = {}
    for seq in Seq:
        name = seq.value
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SnapshotError(f"store.sequences.{name}: must be an integer")
        highest = max(used.get(name, []), default=0)
        if value <= highest:
            raise SnapshotError(f"store.sequences.{name}: {value} would hand out id {highest} again")
        sequences[name] = value
    return sequences


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
