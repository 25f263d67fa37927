"""The Redis store: the state lives in Redis only, and every operation is one atomic step there.

Any number of workers on any number of hosts share one world; a worker keeps
no replica and follows no change stream.  Each operation of
:class:`~simulator.domain.store.Store` is a single round trip: a plain
command for a read, a Lua script (:mod:`.redis_scripts`) for a change that
must check and apply together - a money movement checks the balance or points,
moves them, takes the next id and appends the history row in one step.
The scripts and the user read of a ``/v4`` call go through :class:`Wire`,
straight on the client's connections (issue 14: redis-py's per-command
overhead cost a Redis worker more CPU than the call itself).

Keys live under the world's prefix ``<prefix>w:<epoch>:`` (a reset or a restore
writes a new epoch and switches to it, see :mod:`.redis_world`):

- one hash per record: ``agent:<id>``, ``user:<code>``, ``session:<gplay_id>``,
  ``launch:<token digest>``, ``round:<agent>:<round_id>``, ``call:<id>``,
  ``grant:<fr_id>``, its fields encoded by :class:`Codec` (amounts as integer
  ten-thousandths, times as integer microseconds, so scripts compare and add them);
- indexes: ``agentname``, ``token``, ``username``, ``secret`` (hashes to ids),
  ``users:<agent>``, ``sessions:<agent>``, ``rounds:<agent>``, ``calls:<agent>``,
  ``grants:<agent>`` (sorted sets), ``scalls:<gplay_id>`` (set), ``ugrants:<user>`` (list);
- history: ``tx:<agent>``, a sorted set scored by ``trans_id`` whose members are
  ``<time>|<row>``, so the ``trans_id`` cursor is a range query and the time
  window a bisection inside one script; ``resv:<agent>``, the reserved ids;
  ``stats:<agent>`` and ``ptx``, lists; ``house``, ``held``, ``purged``,
  ``poll:<agent>``, ``seq``, ``count``, ``lastt``: hashes.

Records are decoded into fresh objects on every read: what a caller holds is a
value, and changes go through the operations.  Per worker by design: the
activity gate a snapshot waits on (it sees this worker's rounds in play).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

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
    TransType,
    User,
)
from ..domain.store import (
    FIRST_IDS,
    CallRunning,
    MoneyTotals,
    NotOwned,
    Owner,
    Page,
    PlayRef,
    Purged,
    Retention,
    Seq,
    Shortfall,
    Store,
    StoreState,
    secret_key,
)
from ..seamless.protocol import TransactionIds
from ..state.codec import schema_for
from .memory import ActivityGate
from .redis_scripts import SCRIPTS
from .redis_wire import Script, Wire, compact_json

SCALE = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Commands per pipeline round trip while a whole state is written or read.
_BATCH = 2000


def scaled(amount: Decimal) -> int:
    """An amount (at most four decimals) as integer ten-thousandths."""
    return int(amount.scaleb(4))


def unscaled(value: int | str | bytes) -> Decimal:
    """Integer ten-thousandths back to an amount, without trailing zeros (``500``, ``0.5``)."""
    return Decimal(int(value)) / SCALE


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def instant(value: int | str | bytes) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


class Codec:
    """A record as a Redis hash and back: one field per dataclass field, ``None`` as no field."""

    def __init__(self, cls: type, special: dict[str, tuple[Any, Any]] | None = None) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        self.fields: list[tuple[str, Any, Any]] = []
        for item in dataclasses.fields(cls):
            encode, decode = (special or {}).get(item.name) or _converters(hints[item.name])
            self.fields.append((item.name, encode, decode))
        self.names = {name.encode(): (name, decode) for name, _, decode in self.fields}
        self._blank = {name: None for name, _, _ in self.fields}
        #: A plain dataclass (no slots, no __post_init__) is filled in without its __init__:
        #: every field is set below anyway, and a /v4 call decodes one or two records.
        self._plain = not hasattr(cls, "__slots__") and not hasattr(cls, "__post_init__")

    def encode(self, record: Any) -> dict[str, str]:
        out = {}
        for name, encode, _ in self.fields:
            value = getattr(record, name)
            if value is not None:
                out[name] = encode(value)
        return out

    def flat(self, record: Any) -> list[str]:
        return [part for item in self.encode(record).items() for part in item]

    def decode(self, raw: dict[bytes, bytes] | list[bytes]) -> Any:
        """A record from its hash: a dict (redis-py's ``hgetall``) or the flat list of a raw reply."""
        if isinstance(raw, list):
            pairs: Any = zip(raw[::2], raw[1::2], strict=True)
        else:
            pairs = raw.items()
        values = self._blank.copy()
        names = self.names
        for key, value in pairs:
            known = names.get(key)
            if known is not None:
                values[known[0]] = known[1](value)
        if self._plain:
            record: Any = object.__new__(self.cls)
            record.__dict__.update(values)
            return record
        return self.cls(**values)


def _converters(hint: Any) -> tuple[Any, Any]:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (member,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converters(member)
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        ints = {str(int(member)).encode(): member for member in hint}
        return (lambda v: str(int(v))), (lambda v: ints[v] if v in ints else hint(int(v)))
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        strs = {member.value.encode(): member for member in hint}
        return (lambda v: v.value), (lambda v: strs[v] if v in strs else hint(v.decode()))
    if hint is Decimal:
        return (lambda v: str(scaled(v))), unscaled
    if hint is datetime:
        return (lambda v: str(micros(v))), instant
    if hint is bool:
        return (lambda v: "1" if v else "0"), (lambda v: v == b"1")
    if hint is int:
        return str, int
    if hint is str:
        return (lambda v: v), bytes.decode
    if dataclasses.is_dataclass(hint):
        schema = schema_for(hint)  # type: ignore[arg-type]
        return (lambda v: compact_json(schema.dump(v))), (lambda v: schema.load(json.loads(v)))
    return compact_json, json.loads


def _settings_codec() -> tuple[Any, Any]:
    """An agent's settings: decoded once per distinct text (they change rarely, and loading them
    through their schema is the dearest part of reading an agent), a fresh copy per read."""
    encode, decode = _converters(AgentSettings)
    cache: dict[bytes, AgentSettings] = {}

    def cached(text: bytes) -> AgentSettings:
        settings = cache.get(text)
        if settings is None:
            if len(cache) >= 1024:
                cache.clear()
            settings = cache[text] = decode(text)
        copy = object.__new__(AgentSettings)
        copy.__dict__.update(settings.__dict__)
        copy.providers = list(settings.providers)
        return copy

    return encode, cached


def _callback_ids() -> tuple[Any, Any]:
    def encode(ids: dict[str, TransactionIds]) -> str:
        return compact_json({k: dataclasses.asdict(v) for k, v in ids.items()})

    def decode(text: bytes) -> dict[str, TransactionIds]:
        return {k: TransactionIds(**v) for k, v in json.loads(text).items()}

    return encode, decode


AGENT = Codec(Agent, {"settings": _settings_codec()})
USER = Codec(User)
LAUNCH = Codec(LaunchToken)
SESSION = Codec(GameSession)
ROUND = Codec(Round, {"callback_ids": _callback_ids()})
CALL = Codec(BonusCall)
GRANT = Codec(FreeRoundGrant)


def _row(member: bytes) -> Transaction:
    """A history row from its ``<time>|[...]`` member (see ``add_row`` in the scripts)."""
    (trans_id, agent, user, ttype, amount, pre, bal, t, round_id, provider, game) = json.loads(
        member[member.index(b"|") + 1 :]
    )
    return Transaction(
        trans_id,
        agent,
        user,
        ttype,
        unscaled(amount),
        unscaled(pre),
        unscaled(bal),
        instant(t),
        round_id,
        provider,
        game,
    )


def _row_member(tx: Transaction) -> str:
    t = micros(tx.created_at)
    body = [
        tx.trans_id,
        tx.agent_id,
        tx.user_code,
        int(tx.trans_type),
        scaled(tx.trans_amount),
        scaled(tx.prebalance),
        scaled(tx.balance),
        t,
        tx.round_id,
        tx.provider_id,
        tx.game_code,
    ]
    return f"{t}|{compact_json(body)}"


def _point_row(text: bytes) -> PointTransaction:
    pid, kind, source, target, amount, from_points, to_points, at = json.loads(text)
    return PointTransaction(
        pid,
        kind,
        source,
        target,
        unscaled(amount),
        None if from_points is None else unscaled(from_points),
        unscaled(to_points),
        instant(at),
    )


def _point_text(ptx: PointTransaction) -> str:
    body = [
        ptx.point_trans_id,
        ptx.kind,
        ptx.from_agent_id,
        ptx.to_agent_id,
        scaled(ptx.amount),
        None if ptx.from_points is None else scaled(ptx.from_points),
        scaled(ptx.to_points),
        micros(ptx.created_at),
    ]
    return compact_json(body)


def _stat(member: bytes) -> RoundStat:
    t, _, body = member.partition(b"|")
    user, category, bet, win, refunded = json.loads(body)
    return RoundStat(instant(t), user, category, unscaled(bet), unscaled(win), bool(refunded))


def _stat_body(stat: RoundStat) -> str:
    body = [stat.user_code, stat.category, scaled(stat.bet), scaled(stat.win), int(stat.refunded)]
    return compact_json(body)


def _ceil_seconds(moment: datetime) -> int:
    return (
        math.ceil(micros(moment) / 1_000_000) if micros(moment) % 1_000_000 else micros(moment) // 1_000_000
    )


_SCRIPTS = {name: Script(source) for name, source in SCRIPTS.items()}


class RedisStore(Store):
    """One world's state in Redis (see the module docstring)."""

    def __init__(self, redis: Any, world_prefix: str) -> None:
        self.redis = redis
        self.prefix = world_prefix
        #: The world's epoch (set by the backend that made or found it).
        self.epoch = ""
        #: The hot path's commands (see :class:`Wire`); everything else goes through ``redis``.
        self.wire = Wire.of(redis)
        self._gate = ActivityGate()

    # -- plumbing ----------------------------------------------------------------------
    def key(self, name: str) -> str:
        return self.prefix + name

    def _run(self, script: str, *args: Any) -> Any:
        return self.wire.script(_SCRIPTS[script], self.prefix, *args)

    def initialise(self) -> None:
        """Set the id counters to their first values (a new, empty world)."""
        self.redis.hset(self.key("seq"), mapping={seq.value: start for seq, start in FIRST_IDS.items()})

    def activity(self) -> AbstractContextManager[None]:
        return self._gate.activity()

    @contextmanager
    def quiesced(self, timeout: float | None = None) -> Iterator[None]:
        with self._gate.quiet(timeout):
            yield

    # -- ids -----------------------------------------------------------------------------
    def next_id(self, seq: Seq) -> int:
        return int(self.redis.hincrby(self.key("seq"), seq.value, 1)) - 1

    def sequences(self) -> dict[str, int]:
        raw = self.redis.hgetall(self.key("seq"))
        return {seq.value: int(raw.get(seq.value.encode(), FIRST_IDS[seq])) for seq in Seq}

    # -- agents --------------------------------------------------------------------------
    def _agent(self, raw: dict[bytes, bytes] | list[bytes] | None) -> Agent | None:
        return AGENT.decode(raw) if raw else None

    def agent_from_fields(self, raw: list[bytes]) -> Agent:
        """An agent from its hash fields as a script returned them (the /v4 admission)."""
        agent = self._agent(raw)
        assert agent is not None
        return agent

    def _agent_fields(self, agent: Agent) -> dict[str, str]:
        fields = AGENT.encode(agent)
        fields["ver"] = "0"
        return fields

    def add_agent(self, agent: Agent) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key(f"agent:{agent.agent_id}"), mapping=self._agent_fields(agent))
        pipe.hset(self.key("agentname"), agent.name.lower(), agent.agent_id)
        pipe.hset(self.key("token"), secret_key(agent.api_token).hex(), agent.agent_id)
        pipe.zadd(self.key("agents"), {str(agent.agent_id): agent.agent_id})
        pipe.hsetnx(self.key("house"), agent.agent_id, 0)
        pipe.hsetnx(self.key("held"), agent.agent_id, 0)
        pipe.execute()

    def agent(self, agent_id: int) -> Agent | None:
        return self._agent(self.redis.hgetall(self.key(f"agent:{agent_id}")))

    def agent_by_name(self, name: str) -> Agent | None:
        agent_id = self.redis.hget(self.key("agentname"), name.lower())
        return None if agent_id is None else self.agent(int(agent_id))

    def agent_by_token(self, token: str) -> Agent | None:
        return self._agent(self._run("agent_by_token", secret_key(token).hex()) or None)

    def all_agents(self) -> list[Agent]:
        ids = self.redis.zrange(self.key("agents"), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for agent_id in ids:
            pipe.hgetall(self.key(f"agent:{int(agent_id)}"))
        return [a for a in (self._agent(raw) for raw in pipe.execute()) if a is not None]

    def change_settings(self, agent_id: int, changes: dict[str, Any]) -> AgentSettings:
        key = self.key(f"agent:{agent_id}")
        while True:
            settings_text, version = self.redis.hmget(key, "settings", "ver")
            settings = AGENT.names[b"settings"][1](settings_text)
            for name, value in changes.items():
                setattr(settings, name, value)
            text = AGENT.fields[[f[0] for f in AGENT.fields].index("settings")][1](settings)
            if self._run("change_settings", agent_id, version, text):
                return settings

    def replace_token(self, agent_id: int, token: str) -> None:
        while True:
            old = self.redis.hget(self.key(f"agent:{agent_id}"), "api_token").decode()
            new_digest = secret_key(token).hex()
            if self._run("replace_token", agent_id, secret_key(old).hex(), new_digest, old, token):
                return

    # -- users ---------------------------------------------------------------------------
    def add_user(self, user: User) -> tuple[User, bool]:
        name_key = f"{user.agent_id}|{user.mode}|{user.name.lower()}"
        code = int(self._run("add_user", user.agent_id, user.user_code, name_key, *USER.flat(user)))
        if code == user.user_code:
            return user, True
        existing = self.user(code)
        assert existing is not None
        return existing, False

    def user(self, user_code: int) -> User | None:
        raw = self.wire.call("HGETALL", f"{self.prefix}user:{user_code}")
        return USER.decode(raw) if raw else None

    def user_by_name(self, agent_id: int, mode: str, name: str) -> User | None:
        code = self.redis.hget(self.key("username"), f"{agent_id}|{mode}|{name.lower()}")
        return None if code is None else self.user(int(code))

    def users_of(self, agent_id: int) -> list[User]:
        codes = self.redis.zrange(self.key(f"users:{agent_id}"), 0, -1)
        return self._many(USER, [f"user:{int(c)}" for c in codes])

    def _many(self, codec: Codec, names: list[str]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(names), _BATCH):
            pipe = self.redis.pipeline(transaction=False)
            for name in names[start : start + _BATCH]:
                pipe.hgetall(self.key(name))
            out.extend(codec.decode(raw) for raw in pipe.execute() if raw)
        return out

    def user_count(self) -> int:
        return int(self.redis.hget(self.key("count"), "users") or 0)

    def set_user_active(self, user_code: int, active: bool) -> None:
        self.redis.hset(self.key(f"user:{user_code}"), "active", "1" if active else "0")

    def set_last_balance(self, user_code: int, balance: Decimal) -> None:
        self.redis.hset(self.key(f"user:{user_code}"), "last_balance", scaled(balance))

    # -- money ---------------------------------------------------------------------------
    def _points(
        self, kind: str, source: int | str, target: int, amount: Decimal, at: datetime
    ) -> PointTransaction:
        """Points to ``target``, from ``source`` ("": created, an issue) if it has enough."""
        result = self._run("points", kind, source, target, scaled(amount), micros(at))
        if int(result[0]) < 0:
            raise Shortfall("points", unscaled(result[1]))
        return _point_row(result[1])

    def issue_points(self, agent_id: int, amount: Decimal, at: datetime) -> PointTransaction:
        return self._points("issue", "", agent_id, amount, at)

    def move_points(
        self, kind: str, source_id: int, target_id: int, amount: Decimal, at: datetime
    ) -> PointTransaction:
        return self._points(kind, source_id, target_id, amount, at)

    def move_balance(
        self,
        user_code: int,
        trans_type: int,
        change: Decimal,
        at: datetime,
        *,
        points: Decimal = Decimal(0),
        house: Decimal = Decimal(0),
        ref: PlayRef | None = None,
        owner: Owner | None = None,
    ) -> Transaction:
        tx = self._move(user_code, trans_type, change, at, points, house, ref, False, owner)
        assert tx is not None
        return tx

    def withdraw_all(self, user_code: int, at: datetime, owner: Owner | None = None) -> Transaction | None:
        zero = Decimal(0)
        return self._move(user_code, TransType.WITHDRAW, zero, at, zero, zero, None, True, owner)

    def _move(
        self,
        user_code: int,
        trans_type: int,
        change: Decimal,
        at: datetime,
        points: Decimal,
        house: Decimal,
        ref: PlayRef | None,
        whole: bool,
        owner: Owner | None,
    ) -> Transaction | None:
        result = self._run(
            "move_balance",
            user_code,
            int(trans_type),
            scaled(change),
            scaled(points),
            scaled(house),
            micros(at),
            ref.round_id if ref else "",
            ref.provider_id if ref else 0,
            ref.game_code if ref else "",
            "1" if whole else "0",
            owner[0] if owner else "",
            owner[1].value if owner else "",
        )
        status = int(result[0])
        if status == 0:
            return None
        if status == -3:
            raise NotOwned(self.user(user_code))
        if status < 0:
            raise Shortfall("balance" if status == -1 else "points", unscaled(result[1]))
        trans_id, pre, bal, t, amount, agent_id = (int(v) for v in result[1:7])
        tx = Transaction(
            trans_id,
            agent_id,
            user_code,
            int(trans_type),
            unscaled(amount),
            unscaled(pre),
            unscaled(bal),
            instant(t),
        )
        if ref is not None:
            tx.round_id, tx.provider_id, tx.game_code = ref.round_id, ref.provider_id, ref.game_code
        return tx

    def move_house(self, agent_id: int, points: Decimal) -> None:
        result = self._run("move_house", agent_id, scaled(points))
        if int(result[0]) < 0:
            raise Shortfall("points", unscaled(result[1]))

    def reserve_trans_id(self, agent_id: int, at: datetime) -> int:
        return int(self._run("reserve", agent_id, micros(at)))

    def release_trans_id(self, agent_id: int, trans_id: int) -> None:
        self.redis.hdel(self.key(f"resv:{agent_id}"), trans_id)

    def record_row(self, row: Transaction, last_balance: Decimal | None = None) -> Transaction:
        trans_id, t = self._run(
            "record_row",
            row.agent_id,
            row.trans_id,
            row.user_code,
            int(row.trans_type),
            scaled(row.trans_amount),
            scaled(row.prebalance),
            scaled(row.balance),
            micros(row.created_at),
            row.round_id,
            row.provider_id,
            row.game_code,
            "" if last_balance is None else scaled(last_balance),
        )
        return dataclasses.replace(row, trans_id=int(trans_id), created_at=instant(t))

    def money_totals(self) -> MoneyTotals:
        """Added up from one atomic read of the world (the audit is consistent while others write)."""
        return MoneyTotals.of(self.export())

    # -- history -------------------------------------------------------------------------
    def window(self, agent_id: int, start: datetime, end: datetime, offset: int, limit: int) -> Page:
        total, *members = self._run(
            "window", agent_id, _ceil_seconds(start), _ceil_seconds(end), offset, limit
        )
        return Page(int(total), [_row(m) for m in members])

    def after(self, agent_id: int, last_id: int, limit: int) -> list[Transaction]:
        return [_row(m) for m in self._run("after", agent_id, last_id, limit)]

    def transactions_of(self, agent_id: int) -> list[Transaction]:
        return [_row(m) for m in self.redis.zrange(self.key(f"tx:{agent_id}"), 0, -1)]

    def transaction_count(self) -> int:
        return int(self.redis.hget(self.key("count"), "tx") or 0)

    def all_point_transactions(self) -> list[PointTransaction]:
        return [_point_row(t) for t in self.redis.lrange(self.key("ptx"), 0, -1)]

    def round_stats_of(self, agent_id: int) -> list[RoundStat]:
        return [_stat(m) for m in self.redis.lrange(self.key(f"stats:{agent_id}"), 0, -1)]

    def purge(self, agent_id: int, retention: Retention) -> Purged:
        rows, rounds, stats = self._run(
            "purge",
            agent_id,
            micros(retention.transactions_before),
            micros(retention.rounds_before),
            micros(retention.round_stats_before),
            *retention.keep_round_statuses,
        )
        return Purged(int(rows), int(rounds), int(stats))

    def admit_poll(self, agent_id: int, key: Hashable, now: float, interval: float) -> float | None:
        wait = self._run("admit_poll", agent_id, json.dumps(key), repr(now), repr(float(interval)))
        return None if wait is None else float(wait)

    # -- launches and sessions -------------------------------------------------------------
    def add_launch(self, launch: LaunchToken) -> None:
        digest = secret_key(launch.token).hex()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key(f"launch:{digest}"), mapping=LAUNCH.encode(launch))
        pipe.sadd(self.key("launches"), digest)
        pipe.execute()

    def use_launch(self, token: str, now: datetime) -> tuple[LaunchToken | None, str]:
        refusal, *fields = self._run("use_launch", secret_key(token).hex(), micros(now))
        if refusal == b"unknown":
            return None, "unknown"
        return LAUNCH.decode(fields), refusal.decode()

    def add_session(self, session: GameSession) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key(f"session:{session.gplay_id}"), mapping=SESSION.encode(session))
        pipe.hset(self.key("secret"), secret_key(session.secret).hex(), session.gplay_id)
        pipe.zadd(self.key(f"sessions:{session.agent_id}"), {str(session.gplay_id): session.gplay_id})
        pipe.hincrby(self.key("count"), "sessions", 1)
        pipe.execute()

    def session(self, gplay_id: int) -> GameSession | None:
        raw = self.redis.hgetall(self.key(f"session:{gplay_id}"))
        return SESSION.decode(raw) if raw else None

    def session_by_secret(self, secret: str) -> GameSession | None:
        gplay_id = self.redis.hget(self.key("secret"), secret_key(secret).hex())
        return None if gplay_id is None else self.session(int(gplay_id))

    def sessions_of(self, agent_id: int) -> list[GameSession]:
        ids = self.redis.zrange(self.key(f"sessions:{agent_id}"), 0, -1)
        return self._many(SESSION, [f"session:{int(g)}" for g in ids])

    def session_count(self) -> int:
        return int(self.redis.hget(self.key("count"), "sessions") or 0)

    def kick(self, agent_id: int, user_code: int) -> int:
        return int(self._run("kick", agent_id, user_code))

    def end_session(self, gplay_id: int) -> None:
        self.redis.hset(self.key(f"session:{gplay_id}"), "ended", "1")

    # -- rounds ----------------------------------------------------------------------------
    def record_round(self, round_: Round, at: datetime, recent: int) -> None:
        refunded = round_.status == "refunded"
        stat = RoundStat(
            round_.created_at, round_.user_code, round_.category, round_.bet, round_.win, refunded
        )
        self._run(
            "record_round",
            round_.agent_id,
            round_.round_id,
            round_.gplay_id,
            micros(at),
            recent,
            "1" if refunded else "0",
            scaled(round_.bet),
            scaled(round_.win),
            round_.call_id,
            micros(round_.created_at),
            _stat_body(stat),
            *ROUND.flat(round_),
        )

    def round(self, agent_id: int, round_id: str) -> Round | None:
        raw = self.redis.hgetall(self.key(f"round:{agent_id}:{round_id}"))
        return ROUND.decode(raw) if raw else None

    def rounds_of(self, agent_id: int) -> list[Round]:
        ids = self.redis.zrange(self.key(f"rounds:{agent_id}"), 0, -1)
        return self._many(ROUND, [f"round:{agent_id}:{r.decode()}" for r in ids])

    def round_count(self) -> int:
        return int(self.redis.hget(self.key("count"), "rounds") or 0)

    def update_round(self, agent_id: int, round_id: str, expect: str | None = None, **fields: Any) -> bool:
        return self._update(ROUND, f"round:{agent_id}:{round_id}", expect, fields)

    def _update(self, codec: Codec, name: str, expect: str | None, changes: dict[str, Any]) -> bool:
        encoders = {n: e for n, e, _ in codec.fields}
        gone = [n for n, v in changes.items() if v is None]
        flat = [part for n, v in changes.items() if v is not None for part in (n, encoders[n](v))]
        return bool(self._run("update_record", name, expect or "", json.dumps(gone), *flat))

    # -- bonus calls -----------------------------------------------------------------------
    def open_bonus_call(self, call: BonusCall, at: datetime) -> BonusCall:
        result = self._run(
            "open_call",
            call.agent_id,
            call.gplay_id,
            call.call_id,
            scaled(call.set_point),
            micros(at),
            *CALL.flat(call),
        )
        status = int(result[0])
        if status == -3:
            raise CallRunning(int(result[1]))
        if status == -2:
            raise Shortfall("points", unscaled(result[1]))
        return call

    def bonus_call(self, call_id: int) -> BonusCall | None:
        raw = self.redis.hgetall(self.key(f"call:{call_id}"))
        return CALL.decode(raw) if raw else None

    def bonus_calls_of(self, agent_id: int) -> list[BonusCall]:
        ids = self.redis.zrange(self.key(f"calls:{agent_id}"), 0, -1)
        return self._many(CALL, [f"call:{int(c)}" for c in ids])

    def bonus_calls_of_session(self, gplay_id: int) -> list[BonusCall]:
        ids = sorted(int(c) for c in self.redis.smembers(self.key(f"scalls:{gplay_id}")))
        return self._many(CALL, [f"call:{c}" for c in ids])

    def end_bonus_call(self, call_id: int, status: int, at: datetime) -> bool:
        return bool(self._run("end_call", call_id, int(status), micros(at)))

    def pay_bonus_call(self, call_id: int, stake_cap: Decimal, max_win: Decimal) -> Decimal | None:
        payout = self._run("pay_call", call_id, scaled(stake_cap), scaled(max_win))
        return None if payout is None else unscaled(payout)

    def unpay_bonus_call(self, call_id: int, payout: Decimal) -> None:
        if self.redis.exists(self.key(f"call:{call_id}")):
            self.redis.hincrby(self.key(f"call:{call_id}"), "paid", -scaled(payout))

    def complete_bonus_call(self, call_id: int, at: datetime) -> bool:
        return bool(self._run("complete_call", call_id, micros(at)))

    # -- free rounds -----------------------------------------------------------------------
    def add_grant(self, grant: FreeRoundGrant) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.key(f"grant:{grant.fr_id}"), mapping=GRANT.encode(grant))
        pipe.rpush(self.key(f"grants:{grant.agent_id}"), grant.fr_id)
        pipe.rpush(self.key(f"ugrants:{grant.user_code}"), grant.fr_id)
        pipe.execute()

    def grant(self, fr_id: str) -> FreeRoundGrant | None:
        raw = self.redis.hgetall(self.key(f"grant:{fr_id}"))
        return GRANT.decode(raw) if raw else None

    def grants_of(self, agent_id: int) -> list[FreeRoundGrant]:
        ids = self.redis.lrange(self.key(f"grants:{agent_id}"), 0, -1)
        return self._many(GRANT, [f"grant:{g.decode()}" for g in ids])

    def claim_grant(self, user_code: int, provider_id: int, game_code: str, now: datetime) -> str | None:
        fr_id = self._run("claim_grant", user_code, provider_id, game_code, micros(now))
        return None if fr_id is None else fr_id.decode()

    def release_grant(self, fr_id: str) -> None:
        self.redis.hincrby(self.key(f"grant:{fr_id}"), "played", -1)

    def cap_grant_win(self, fr_id: str, win: Decimal) -> Decimal:
        return unscaled(self._run("cap_grant", fr_id, scaled(win)))

    def uncap_grant_win(self, fr_id: str, win: Decimal) -> None:
        self.redis.hincrby(self.key(f"grant:{fr_id}"), "won", -scaled(win))

    def cancel_grant(self, fr_id: str, now: datetime) -> bool:
        return bool(self._run("cancel_grant", fr_id, micros(now)))

    # -- shared RTP streams ----------------------------------------------------------------
    def next_card(self, stream: str) -> int:
        return int(self.redis.hincrby(self.key("cards"), stream, 1)) - 1

    # -- snapshots -------------------------------------------------------------------------
    def export(self) -> StoreState:
        """Every record, read in one atomic step (the ``dump`` script), so the state is consistent
        even while other workers go on: a snapshot never sees half of a money movement."""
        frozen = RedisStore.__new__(RedisStore)
        frozen.__dict__.update(self.__dict__)
        frozen.redis = _Frozen(self._run("dump"))
        return frozen._export()

    def _export(self) -> StoreState:
        agents = self.all_agents()
        state = StoreState(sequences=self.sequences(), agents=agents)
        launches = [f"launch:{d.decode()}" for d in self.redis.smembers(self.key("launches"))]
        state.launch_tokens = self._many(LAUNCH, launches)
        for agent in agents:
            agent_id = agent.agent_id
            state.users.extend(self.users_of(agent_id))
            state.transactions.extend(self.transactions_of(agent_id))
            state.sessions.extend(self.sessions_of(agent_id))
            state.rounds.extend(self.rounds_of(agent_id))
            stats = self.round_stats_of(agent_id)
            if stats:
                state.round_stats[agent_id] = stats
            for key, at in self.redis.hgetall(self.key(f"poll:{agent_id}")).items():
                state.poll_marks.append((agent_id, json.loads(key), float(at)))
            state.bonus_calls.extend(self.bonus_calls_of(agent_id))
            state.free_rounds.extend(self.grants_of(agent_id))
        state.point_transactions = self.all_point_transactions()
        state.cards = {k.decode(): int(v) for k, v in self.redis.hgetall(self.key("cards")).items()}
        for name in ("house_net", "held_points", "purged_movement"):
            key = {"house_net": "house", "held_points": "held", "purged_movement": "purged"}[name]
            sums = {int(k): unscaled(v) for k, v in self.redis.hgetall(self.key(key)).items()}
            setattr(state, name, sums)
        return state

    def load(self, state: StoreState) -> None:
        """Write a whole state into this (empty) world, in pipelined batches."""
        pipe = self.redis.pipeline(transaction=False)
        count = 0

        def flush(force: bool = False) -> None:
            nonlocal pipe, count
            if count and (force or count >= _BATCH):
                pipe.execute()
                pipe = self.redis.pipeline(transaction=False)
                count = 0

        def put(command: str, *args: Any, **kwargs: Any) -> None:
            nonlocal count
            getattr(pipe, command)(*args, **kwargs)
            count += 1
            flush()

        key = self.key
        for agent in state.agents:
            put("hset", key(f"agent:{agent.agent_id}"), mapping=self._agent_fields(agent))
            put("hset", key("agentname"), agent.name.lower(), agent.agent_id)
            put("hset", key("token"), secret_key(agent.api_token).hex(), agent.agent_id)
            put("zadd", key("agents"), {str(agent.agent_id): agent.agent_id})
        for user in state.users:
            put("hset", key(f"user:{user.user_code}"), mapping=USER.encode(user))
            put("hset", key("username"), f"{user.agent_id}|{user.mode}|{user.name.lower()}", user.user_code)
            put("zadd", key(f"users:{user.agent_id}"), {str(user.user_code): user.user_code})
        last: dict[int, int] = {}
        for tx in state.transactions:
            put("zadd", key(f"tx:{tx.agent_id}"), {_row_member(tx): tx.trans_id})
            last[tx.agent_id] = max(last.get(tx.agent_id, 0), micros(tx.created_at))
        for agent_id, t in last.items():
            put("hset", key("lastt"), agent_id, t)
        for ptx in sorted(state.point_transactions, key=lambda p: p.point_trans_id):
            put("rpush", key("ptx"), _point_text(ptx))
        for launch in state.launch_tokens:
            digest = secret_key(launch.token).hex()
            put("hset", key(f"launch:{digest}"), mapping=LAUNCH.encode(launch))
            put("sadd", key("launches"), digest)
        for session in state.sessions:
            put("hset", key(f"session:{session.gplay_id}"), mapping=SESSION.encode(session))
            put("hset", key("secret"), secret_key(session.secret).hex(), session.gplay_id)
            put("zadd", key(f"sessions:{session.agent_id}"), {str(session.gplay_id): session.gplay_id})
        for round_ in state.rounds:
            put("hset", key(f"round:{round_.agent_id}:{round_.round_id}"), mapping=ROUND.encode(round_))
            put("zadd", key(f"rounds:{round_.agent_id}"), {round_.round_id: micros(round_.created_at)})
        for agent_id, stats in state.round_stats.items():
            for stat in stats:
                put("rpush", key(f"stats:{agent_id}"), f"{micros(stat.created_at)}|{_stat_body(stat)}")
        for name, sums in (
            ("house", state.house_net),
            ("held", state.held_points),
            ("purged", state.purged_movement),
        ):
            for owner, amount in sums.items():
                put("hset", key(name), owner, scaled(amount))
        for agent_id, poll_key, at in state.poll_marks:
            put("hset", key(f"poll:{agent_id}"), json.dumps(poll_key), repr(float(at)))
        for call in state.bonus_calls:
            put("hset", key(f"call:{call.call_id}"), mapping=CALL.encode(call))
            put("sadd", key(f"scalls:{call.gplay_id}"), call.call_id)
            put("zadd", key(f"calls:{call.agent_id}"), {str(call.call_id): call.call_id})
        for grant in sorted(state.free_rounds, key=lambda g: (g.created_at, g.fr_id)):
            put("hset", key(f"grant:{grant.fr_id}"), mapping=GRANT.encode(grant))
            put("rpush", key(f"grants:{grant.agent_id}"), grant.fr_id)
            put("rpush", key(f"ugrants:{grant.user_code}"), grant.fr_id)
        counts = {
            "users": len(state.users),
            "tx": len(state.transactions),
            "sessions": len(state.sessions),
            "rounds": len(state.rounds),
        }
        put("hset", key("count"), mapping=counts)
        for stream, position in state.cards.items():
            put("hset", key("cards"), stream, position)
        sequences = {seq.value: state.sequences.get(seq.value, start) for seq, start in FIRST_IDS.items()}
        put("hset", key("seq"), mapping=sequences)
        flush(force=True)


class _Frozen:
    """The reads :meth:`RedisStore._export` makes, answered from one dump of the world's keys."""

    def __init__(self, entries: list[list[Any]]) -> None:
        self._data = {key.decode(): values for key, _, values in entries}

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        values = self._data.get(key, [])
        return dict(zip(values[::2], values[1::2], strict=True))

    def zrange(self, key: str, start: int, end: int) -> list[bytes]:
        return list(self._data.get(key, []))

    lrange = zrange

    def smembers(self, key: str) -> set[bytes]:
        return set(self._data.get(key, []))

    def pipeline(self, transaction: bool = False) -> _FrozenPipeline:
        return _FrozenPipeline(self)


class _FrozenPipeline:
    def __init__(self, frozen: _Frozen) -> None:
        self._frozen = frozen
        self._results: list[Any] = []

    def hgetall(self, key: str) -> None:
        self._results.append(self._frozen.hgetall(key))

    def execute(self) -> list[Any]:
        return self._results
