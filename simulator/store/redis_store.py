"""The Redis store: one consistent state for several workers and hosts (issue 9).

Every worker keeps a full replica of the state in memory - the domain runs on
it exactly as on :class:`MemoryStore`, at the same speed - and Redis is the
source of truth:

- **Records live in Redis** under the store's prefix (``scorpio:`` by
  default): one hash per kind of record (``agents``, ``users``, ``sessions``,
  ``launch``, ``bonus``, ``fr``, ``rounds:<agent>``), a sorted set per agent for
  the transaction history (``tx:<agent>``, by ``trans_id``), a list per agent
  for round statistics (``stats:<agent>``), a sorted set of point movements
  (``ptx``), hashes of the per-agent and per-user sums (``house``, ``held``,
  ``purged``) and of the history-poll marks (``poll:<agent>``).  Id counters
  are Redis counters (``seq:<name>``, ``INCR``), so ids are unique across workers.
- **Units of work.**  ``store.locked(agents...)`` takes each agent's Redis lock
  (``lock:agent:<id>``: ``SET NX PX`` with a lease that a heartbeat renews, so
  a dead worker's locks expire), catches the replica up, runs the domain code,
  and then writes what it changed - records, rows, sums - together with one
  entry of the change stream (``changes``) in a single Lua script, atomically.
  The script refuses the write when the world changed meanwhile (a reset or
  restore on another worker: the request finishes on the world it started
  with, as in memory).
- **Catching up.**  Before each unit of work and each request, a worker reads
  the change stream from where it stopped and applies the other workers'
  entries to its replica.  Entries are numbered; a worker that finds a gap (the
  stream is capped) or a new world epoch reloads the whole state from the
  records.

Changes are seen through :mod:`simulator.store.tracking`: tracked containers
and attached records report every mutation, so the domain does not know it is
replicated.  Money keeps the ledger's guarantees because every balance and
points change happens under the agent locks, which are now cross-process.

Beside the world, the clock, fault rules, forced outcomes, maintenance,
callback stamps and link secret (:mod:`.redis_shared`), the journal, the
callback log, the retry queue and the in-flight limiter are shared too.  Per
worker by design: the RTP decks (each worker deals from its own, seeded alike,
so the realised RTP converges per worker), the activity gate a snapshot waits
on (it sees this worker's rounds in play, not another's), and traffic runs.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any, cast

from ..domain.models import (
    Agent,
    AgentSettings,
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
from . import tracking
from .memory import MemoryStore, Sequence, secret_key
from .tracking import TrackedDeque, TrackedDict, TrackedList, _Sink

log = logging.getLogger("simulator.store")

tracking.install_hooks(
    (Agent, AgentSettings, User, LaunchToken, GameSession, Round, BonusCall, FreeRoundGrant)
)

#: Record kinds kept as one Redis hash each (``rounds`` has one hash per agent).
RECORD_KINDS: dict[str, type] = {
    "agents": Agent,
    "users": User,
    "launch": LaunchToken,
    "sessions": GameSession,
    "rounds": Round,
    "bonus": BonusCall,
    "fr": FreeRoundGrant,
}
ROW_KINDS: dict[str, type] = {"tx": Transaction, "stats": RoundStat, "ptx": PointTransaction}
SUM_KINDS = ("house", "held", "purged")

#: The change stream keeps about this many entries; a worker further behind reloads.
STREAM_LENGTH = 100_000
#: A lock not renewed for this long is free again (its worker died).
LOCK_LEASE_MS = 10_000
#: How long a unit of work waits for an agent's lock before it gives up.
LOCK_WAIT_S = 60.0

_COMMIT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local cmds = cjson.decode(ARGV[2])
for _, c in ipairs(cmds) do redis.call(unpack(c)) end
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'n', n, 'o', ARGV[3], 'e', ARGV[1], 'ops', ARGV[4])
return n
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW = """
local renewed = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1]); renewed = renewed + 1
  end
end
return renewed
"""


def _codec():
    """Record schemas (imported late: the state package imports the store)."""
    from ..state.codec import schema_for
    from ..state.snapshot import _ROUND

    return schema_for, _ROUND


def dump_record(kind: str, record: Any) -> dict:
    schema_for, round_overrides = _codec()
    cls = RECORD_KINDS.get(kind) or ROW_KINDS[kind]
    return schema_for(cls, round_overrides if cls is Round else None).dump(record)


def compact(data: Any) -> str:
    """JSON as Redis keeps it: no spaces."""
    return json.dumps(data, separators=(",", ":"))


def load_record(kind: str, data: dict) -> Any:
    schema_for, round_overrides = _codec()
    cls = RECORD_KINDS.get(kind) or ROW_KINDS[kind]
    return schema_for(cls, round_overrides if cls is Round else None).load(data)


class RedisSequence(Sequence):
    """An id counter: local while the world is being built, a Redis counter once it is live."""

    def __init__(self, start: int) -> None:
        super().__init__(start)
        self._redis: Any = None
        self._key = ""

    def bind(self, redis: Any, key: str) -> None:
        self._redis, self._key = redis, key

    def next(self) -> int:
        if self._redis is None:
            return super().next()
        return int(self._redis.incr(self._key))

    def peek(self) -> int:
        if self._redis is None:
            return super().peek()
        value = self._redis.get(self._key)
        return int(value) + 1 if value is not None else super().peek()

    def set(self, value: int) -> None:
        if self._redis is None:
            super().set(value)
        else:
            self._redis.set(self._key, value - 1)


class Keys:
    """The Redis key names of one simulator (several may share a database by prefix)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.epoch = f"{prefix}epoch"
        self.version = f"{prefix}version"
        self.changes = f"{prefix}changes"
        self.world = f"{prefix}world"
        self.world_lock = f"{prefix}lock:world"

    def record(self, kind: str, agent_id: int | None = None) -> str:
        return f"{self.prefix}{kind}" if agent_id is None else f"{self.prefix}{kind}:{agent_id}"

    def lock(self, agent_id: int) -> str:
        return f"{self.prefix}lock:agent:{agent_id}"

    def seq(self, name: str) -> str:
        return f"{self.prefix}seq:{name}"


class LockKeeper:
    """Redis locks this worker holds, renewed by a heartbeat so long units of work keep them."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._held: dict[str, str] = {}
        self._guard = threading.Lock()
        self._unlock = redis.register_script(_UNLOCK)
        self._renew = redis.register_script(_RENEW)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="scorpio-redis-locks", daemon=True)
        self._thread.start()

    def acquire(self, key: str) -> None:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_S
        pause = 0.0005
        while not self._redis.set(key, token, nx=True, px=LOCK_LEASE_MS):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Redis lock {key} still held by another worker after {LOCK_WAIT_S} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.01)
        with self._guard:
            self._held[key] = token

    def release(self, key: str) -> None:
        with self._guard:
            token = self._held.pop(key, None)
        if token is not None:
            self._unlock(keys=[key], args=[token])

    def _beat(self) -> None:
        while not self._stop.wait(LOCK_LEASE_MS / 3000):
            with self._guard:
                held = list(self._held.items())
            if not held:
                continue
            try:
                self._renew(keys=[k for k, _ in held], args=[LOCK_LEASE_MS, *[t for _, t in held]])
            except Exception:  # a Redis hiccup: the next beat tries again
                log.warning("could not renew Redis locks", exc_info=True)

    def close(self) -> None:
        self._stop.set()


class RedisStore(MemoryStore):
    """A replica of the state kept in step with Redis (see the module docstring)."""

    #: The change-stream entry this replica has applied up to (set by :meth:`go_live`).
    _last_id: bytes | str

    def __init__(self, redis: Any, keys: Keys, origin: str, locks: LockKeeper) -> None:
        super().__init__()
        self.redis = redis
        self.keys = keys
        self.origin = origin
        self._locks = locks
        self._commit_script = redis.register_script(_COMMIT)
        #: False while the world is being built or loaded: nothing is written to Redis.
        self.live = False
        self.epoch = ""
        self.applied = 0
        #: Set when the change stream says the world was replaced or this replica fell behind.
        self.stale = False
        self._sync_lock = threading.Lock()
        #: Catch-ups begun so far, and the number of the last one that completed (see :meth:`sync`).
        self._syncs_started = 0
        self._synced_by = 0
        self._mine = threading.local()
        #: Called with ``(part key, state)`` for another worker's change of a shared part.
        self.on_control: Any = None
        self.agents = self._dict("agents")
        self.users = self._dict("users")
        self.launch_tokens = self._dict("launch")
        self.sessions = self._dict("sessions")
        self.bonus_calls = self._dict("bonus")
        self.free_rounds = self._dict("fr")
        self.house_net = self._dict("house")
        self.held_points = self._dict("held")
        self.purged_movement = self._dict("purged")
        self.point_transactions = TrackedList(_Sink("ptx", None, self._stray_op))
        for name, sequence in self._sequences().items():
            setattr(self, name, RedisSequence(sequence.peek()))

    # -- containers ------------------------------------------------------------------
    def _dict(self, kind: str, key: Any = None) -> TrackedDict:
        return TrackedDict(_Sink(kind, key, self._stray_op))

    def _insert_agent(self, agent: Agent) -> None:
        super()._insert_agent(agent)
        agent_id = agent.agent_id
        self.transactions[agent_id] = TrackedDeque(_Sink("tx", agent_id, self._stray_op))
        self.rounds[agent_id] = self._dict("rounds", agent_id)
        self.round_stats[agent_id] = TrackedDeque(_Sink("stats", agent_id, self._stray_op))
        self.poll_marks[agent_id] = self._dict("poll", agent_id)

    def _insert_point_row(self, ptx: PointTransaction) -> None:
        """In ``point_trans_id`` order, whichever worker's movement arrives first."""
        with self._meta:
            rows = self.point_transactions
            position = len(rows)
            while position > 0 and rows[position - 1].point_trans_id > ptx.point_trans_id:
                position -= 1
            rows.insert(position, ptx)

    # -- units of work ---------------------------------------------------------------
    def _held_here(self) -> dict[int, int]:
        held = getattr(self._mine, "held", None)
        if held is None:
            held = self._mine.held = {}
        return held

    @contextmanager
    def locked(self, *agent_ids: int) -> Iterator[None]:
        if not self.live:
            with super().locked(*agent_ids):
                yield
            return
        ids = sorted(set(agent_ids))
        held = self._held_here()
        fresh = [agent_id for agent_id in ids if not held.get(agent_id)]
        with ExitStack() as stack:
            stack.enter_context(super().locked(*ids))
            for agent_id in fresh:
                self._locks.acquire(self.keys.lock(agent_id))
                stack.callback(self._locks.release, self.keys.lock(agent_id))
            for agent_id in ids:
                held[agent_id] = held.get(agent_id, 0) + 1
            outer = tracking.current() is None
            try:
                if outer:
                    self.sync()
                    changes = tracking.begin()
                try:
                    yield
                finally:
                    if outer:
                        tracking.end()
                        self.commit(changes)
            finally:
                for agent_id in ids:
                    held[agent_id] -= 1

    # -- writing -----------------------------------------------------------------------
    def _stray_op(self, kind: str, key: Any, op: str, args: tuple) -> None:
        """A container changed outside any unit of work: commit it on its own."""
        if not self.live:
            return
        changes = tracking.ChangeSet()
        changes.ops.append((kind, key, op, args))
        self.commit(changes)

    def _stray_record(self, record: Any) -> None:
        if not self.live:
            return
        changes = tracking.ChangeSet()
        changes.records[id(record)] = record
        self.commit(changes)

    def attach(self, kind: str, key: Any, record: Any) -> Any:
        return tracking.attach(record, self._stray_record, (kind, key))

    def commit(self, changes: tracking.ChangeSet) -> None:
        """Write one unit of work's changes and its change-stream entry, atomically."""
        if not self.live or not changes:
            return
        ops: list[list] = []
        commands: list[list[str]] = []
        for kind, key, op, args in changes.ops:
            self._encode_op(kind, key, op, args, ops, commands)
        for record in changes.records.values():
            address = tracking.address_of(record)
            if address is None or not self._holds(address, record):
                continue  # deleted meanwhile: its delete op is already in the entry
            self._encode_put(address[0], address[1], record, ops, commands)
        if not ops:
            return
        result = self._commit_script(
            keys=[self.keys.epoch, self.keys.version, self.keys.changes],
            args=[self.epoch, json.dumps(commands), self.origin, json.dumps(ops), STREAM_LENGTH],
        )
        if int(result) < 0:
            self.stale = True
            log.info("changes of a replaced world dropped (reset or restore on another worker)")

    def _holds(self, address: tuple, record: Any) -> bool:
        kind, key = address
        if kind == "rounds":
            return self.rounds.get(key[0], {}).get(key[1]) is record
        return self._container(kind).get(key) is record

    def _container(self, kind: str, key: Any = None) -> dict:
        """The dict holding records or sums of ``kind`` (per agent for rounds and poll marks)."""
        if kind == "rounds":
            return self.rounds[key]
        if kind == "poll":
            return self.poll_marks[key]
        containers: dict[str, dict] = {
            "agents": self.agents,
            "users": self.users,
            "launch": self.launch_tokens,
            "sessions": self.sessions,
            "bonus": self.bonus_calls,
            "fr": self.free_rounds,
            "house": self.house_net,
            "held": self.held_points,
            "purged": self.purged_movement,
        }
        return containers[kind]

    def _field(self, kind: str, key: Any) -> str:
        if kind == "launch":
            return key.hex()
        if kind == "rounds":
            return str(key[1])
        return str(key)

    def _encode_put(self, kind: str, key: Any, record: Any, ops: list, commands: list) -> None:
        data = dump_record(kind, record)
        text = compact(data)
        agent = key[0] if kind == "rounds" else None
        commands.append(["HSET", self.keys.record(kind, agent), self._field(kind, key), text])
        ops.append(["put", kind, _json_key(kind, key), data])

    def _encode_op(self, kind: str, key: Any, op: str, args: tuple, ops: list, commands: list) -> None:
        if kind in RECORD_KINDS:

            def full(record_key: Any) -> Any:
                """A round's key carries its agent (the per-agent dict's own key)."""
                return (key, record_key) if kind == "rounds" else record_key

            if op == "set":
                record = self.attach(kind, full(args[0]), args[1])
                self._encode_put(kind, full(args[0]), record, ops, commands)
            elif op == "del":
                agent = key if kind == "rounds" else None
                commands.append(["HDEL", self.keys.record(kind, agent), self._field(kind, full(args[0]))])
                ops.append(["del", kind, _json_key(kind, full(args[0]))])
            elif op == "clear":
                agent = key if kind == "rounds" else None
                commands.append(["DEL", self.keys.record(kind, agent)])
                ops.append(["clear", kind, key])
            return
        if kind in ("tx", "ptx", "stats"):
            redis_key = self.keys.record(kind, key)
            if op in ("append", "insert"):
                row = args[-1]
                data = dump_record(kind, row)
                text = compact(data)
                if kind == "stats":
                    if op == "insert":
                        raise ValueError("round statistics are only appended")
                    commands.append(["RPUSH", redis_key, text])
                else:
                    score = row.trans_id if kind == "tx" else row.point_trans_id
                    commands.append(["ZADD", redis_key, str(score), text])
                ops.append(["row", kind, key, data])
            elif op == "popleft":
                commands.append(["LPOP" if kind == "stats" else "ZPOPMIN", redis_key])
                ops.append(["popleft", kind, key])
            elif op == "clear":
                commands.append(["DEL", redis_key])
                ops.append(["clear", kind, key])
            return
        # sums and poll marks: small hashes of numbers
        redis_key = self.keys.record(kind, key if kind == "poll" else None)
        if op == "set":
            field, value = args
            field_text = json.dumps(field) if kind == "poll" else str(field)
            commands.append(["HSET", redis_key, field_text, str(value)])
            ops.append(["num", kind, key, field_text, str(value)])
        elif op == "del":
            field_text = json.dumps(args[0]) if kind == "poll" else str(args[0])
            commands.append(["HDEL", redis_key, field_text])
            ops.append(["numdel", kind, key, field_text])
        elif op == "clear":
            commands.append(["DEL", redis_key])
            ops.append(["clear", kind, key])

    # -- catching up -------------------------------------------------------------------
    def sync(self) -> None:
        """Apply the other workers' changes since the last call (one Redis read when none).

        Threads arriving together share one read: a catch-up that *started* after this
        call began has seen everything committed before it, so waiting for it is enough.
        """
        if not self.live or self.stale:
            return
        arrived = self._syncs_started
        with self._sync_lock:
            if self._synced_by > arrived:
                return
            self._syncs_started += 1
            mine = self._syncs_started
            self._catch_up()
            self._synced_by = mine

    def _catch_up(self) -> None:
        """Read and apply the stream from where this replica stopped (under the sync lock)."""
        while True:
            answer = self.redis.xread({self.keys.changes: self._last_id}, count=500)
            if not answer:
                return
            entries = answer[0][1]
            for entry_id, fields in entries:
                self._last_id = entry_id
                number = int(fields[b"n"])
                epoch = fields[b"e"].decode()
                if number != self.applied + 1 or epoch not in ("*", self.epoch):
                    self.stale = True
                    return
                self.applied = number
                if fields[b"o"].decode() == self.origin:
                    continue
                if b"ops" in fields:
                    self._apply(json.loads(fields[b"ops"]))
                elif b"ctl" in fields and self.on_control is not None:
                    self.on_control(fields[b"ctl"].decode(), json.loads(fields[b"state"]))
            if len(entries) < 500:
                return

    def _apply(self, ops: list) -> None:
        previous = tracking.current()
        tracking.begin()  # what applying changes is not a change of this worker
        try:
            with self._meta:
                for op in ops:
                    self._apply_one(op)
        finally:
            tracking.restore(previous)

    def _apply_one(self, op: list) -> None:
        verb, kind = op[0], op[1]
        if verb == "put":
            key = _key_from_json(kind, op[2])
            self._put(kind, key, load_record(kind, op[3]))
        elif verb == "del":
            key = _key_from_json(kind, op[2])
            if kind == "rounds":
                self.rounds.get(key[0], {}).pop(key[1], None)
            else:
                record = self._container(kind).pop(key, None)
                if kind == "sessions" and record is not None:
                    self._sessions_by_secret.pop(secret_key(record.secret), None)
        elif verb == "row":
            row = load_record(kind, op[3])
            if kind == "tx":
                self._insert_row(row)
            elif kind == "stats":
                self.round_stats[op[2]].append(row)
            else:
                self._insert_point_row(row)
        elif verb == "popleft":
            self.transactions[op[2]].popleft() if kind == "tx" else self.round_stats[op[2]].popleft()
        elif verb == "clear":
            if kind in ("tx", "stats"):
                (self.transactions if kind == "tx" else self.round_stats)[op[2]].clear()
            elif kind in ("rounds", "poll"):
                self._container(kind, op[2]).clear()
            else:
                self._container(kind).clear()
        elif verb == "num":
            target = self._container(kind, op[2])
            target[_num_key(kind, op[3])] = float(op[4]) if kind == "poll" else Decimal(op[4])
        elif verb == "numdel":
            self._container(kind, op[2]).pop(_num_key(kind, op[3]), None)

    def _put(self, kind: str, key: Any, record: Any) -> None:
        """Insert a record another worker added, or update the one here in place."""
        if kind == "rounds":
            existing: Any = self.rounds.get(key[0], {}).get(key[1])
        else:
            existing = self._container(kind).get(key)
        if existing is None:
            self.attach(kind, key, record)
            adders: dict[str, Callable[[Any], None]] = {
                "agents": self._insert_agent,
                "users": self._insert_user,
                "launch": self._insert_launch,
                "sessions": self._insert_session,
                "bonus": self._insert_call,
                "fr": self._insert_grant,
            }
            if kind == "rounds":
                self.rounds[key[0]][key[1]] = record
            else:
                adders[kind](record)
            return
        if kind == "agents" and existing.api_token != record.api_token:
            self._agents_by_token.pop(secret_key(existing.api_token), None)
            self._agents_by_token[secret_key(record.api_token)] = existing.agent_id
        state = existing.__dict__
        for name, value in record.__dict__.items():
            state[name] = tracking._own(existing, value)

    # -- publishing and loading --------------------------------------------------------
    def records(self) -> Iterator[tuple[str, Any, Any]]:
        """Every record with its kind and key (a round's key is ``(agent_id, round_id)``)."""
        for kind in ("agents", "users", "launch", "sessions", "bonus", "fr"):
            for key, record in self._container(kind).items():
                yield kind, key, record
        for agent_id, rounds in self.rounds.items():
            for round_id, round_ in rounds.items():
                yield "rounds", (agent_id, round_id), round_

    def attach_all(self) -> None:
        """Attach every record (after a build or a load), so changes to them are seen."""
        for kind, key, record in self.records():
            self.attach(kind, key, record)

    def go_live(self, epoch: str, applied: int, last_id: bytes | str) -> None:
        self.attach_all()
        for name, sequence in self._sequences().items():
            cast(RedisSequence, sequence).bind(self.redis, self.keys.seq(name))  # installed by __init__
        self.epoch = epoch
        self.applied = applied
        self._last_id = last_id
        self.live = True

    def records_commands(self) -> list[list[str]]:
        """Every record of this (fully built) store as Redis write commands."""
        commands: list[list[str]] = []

        for kind, key, record in self.records():
            agent = key[0] if kind == "rounds" else None
            text = compact(dump_record(kind, record))
            commands.append(["HSET", self.keys.record(kind, agent), self._field(kind, key), text])
        for agent_id, rows in self.transactions.items():
            for row in rows:
                text = compact(dump_record("tx", row))
                commands.append(["ZADD", self.keys.record("tx", agent_id), str(row.trans_id), text])
        for agent_id, stats in self.round_stats.items():
            for stat in stats:
                text = compact(dump_record("stats", stat))
                commands.append(["RPUSH", self.keys.record("stats", agent_id), text])
        for ptx in self.point_transactions:
            text = compact(dump_record("ptx", ptx))
            commands.append(["ZADD", self.keys.record("ptx"), str(ptx.point_trans_id), text])
        for kind, sums in (
            ("house", self.house_net),
            ("held", self.held_points),
            ("purged", self.purged_movement),
        ):
            for key, value in sums.items():
                commands.append(["HSET", self.keys.record(kind), str(key), str(value)])
        for agent_id, marks in self.poll_marks.items():
            for key, at in marks.items():
                commands.append(["HSET", self.keys.record("poll", agent_id), json.dumps(key), str(at)])
        for name, sequence in self._sequences().items():
            commands.append(["SET", self.keys.seq(name), str(sequence.peek() - 1)])
        return commands

    def load_dump(self, dump: dict[str, Any]) -> None:
        """Fill this (empty, not yet live) store from a dump of its Redis keys (:func:`read_dump`)."""
        keys = self.keys

        def texts(kind: str, agent: int | None = None) -> Any:
            return dump.get(keys.record(kind, agent)) or {}

        def records(kind: str, agent: int | None = None) -> list[Any]:
            return [load_record(kind, json.loads(text)) for text in texts(kind, agent).values()]

        for agent in sorted(records("agents"), key=lambda a: a.agent_id):
            self._insert_agent(agent)
        for user in sorted(records("users"), key=lambda u: u.user_code):
            self._insert_user(user)
        for launch in records("launch"):
            self._insert_launch(launch)
        for session in sorted(records("sessions"), key=lambda s: s.gplay_id):
            self._insert_session(session)
        for call in sorted(records("bonus"), key=lambda c: c.call_id):
            self._insert_call(call)
        for grant in sorted(records("fr"), key=lambda g: (g.created_at, g.fr_id)):
            self._insert_grant(grant)
        for agent_id in list(self.agents):
            for round_ in sorted(records("rounds", agent_id), key=_round_order):
                self.rounds[agent_id][round_.round_id] = round_
            for text in texts("tx", agent_id):
                self.transactions[agent_id].append(load_record("tx", json.loads(text)))
            for text in texts("stats", agent_id):
                self.round_stats[agent_id].append(load_record("stats", json.loads(text)))
            for field, at in texts("poll", agent_id).items():
                self.poll_marks[agent_id][_num_key("poll", field)] = float(at)
        for text in texts("ptx"):
            self.point_transactions.append(load_record("ptx", json.loads(text)))
        for kind, sums in (
            ("house", self.house_net),
            ("held", self.held_points),
            ("purged", self.purged_movement),
        ):
            for field, value in texts(kind).items():
                sums[int(field)] = Decimal(value)
        for name, sequence in self._sequences().items():
            value = dump.get(keys.seq(name))
            if value is not None:
                sequence.set(int(value) + 1)


def _round_order(round_: Round) -> tuple:
    """Rounds in the order they were played: by time, then by id (ids grow)."""
    return (round_.created_at, int(round_.round_id) if round_.round_id.isdigit() else 0)


def _json_key(kind: str, key: Any) -> Any:
    if kind == "launch":
        return key.hex()
    if kind == "rounds":
        return [key[0], key[1]]
    return key


def _key_from_json(kind: str, key: Any) -> Any:
    if kind == "launch":
        return bytes.fromhex(key)
    if kind == "rounds":
        return (int(key[0]), str(key[1]))
    return key


def _num_key(kind: str, text: str) -> Any:
    if kind == "poll":
        return json.loads(text)
    return int(text)


__all__ = ["Keys", "LockKeeper", "RedisStore"]
