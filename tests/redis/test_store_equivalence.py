"""The memory store and the Redis store play one random sequence of operations alike (issue 14, item 5).

Each example builds two simulators with the same seed, one on the memory store
and one on the Redis store, freezes both clocks at the same instant and points
each one's ``demo_seamless`` at a reference wallet of its own (same accounts,
same balances).  It then draws one sequence of operations - users in both
wallet modes, deposits, withdrawals (some of them short), whole withdrawals,
rounds in both wallet modes and both callback dialects, bonus calls with their
spins and cancels, free-round grants and their spins, kicks, injected
settlement failures (refunded with BetCancel), point transfers between agents,
clock moves and retention purges - and applies each to both
simulators in lock-step.  Every operation's outcome (the records it returned,
or its result code) must be the same on both, and so must the balances and
points after it.  At the end the two states are compared field by field:
id counters, agents, users, the ledger audit, every history row, point
movement, round, statistics row, session, bonus call and free-round grant, and
what the history queries answer.

Amounts are compared as values: the stores keep different trailing zeros
(the memory store ``Decimal('500.0000')`` where the Redis store gives
``Decimal('500')``), which the API's JSON numbers do not show.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.serving import WSGIRequestHandler, make_server

from examples.wallet.wallet import create_app as create_wallet
from simulator.codes import SimError
from simulator.config import Settings
from simulator.domain.freerounds import FreeRoundRequest
from simulator.domain.history import History
from simulator.domain.rounds import RoundFailed
from simulator.domain.sessions import LaunchRequest
from simulator.runtime import Simulator
from simulator.testing.redis_server import RedisServer
from tests.conftest import CALLBACK_TOKEN

D = Decimal
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PROVIDER, GAME = 1, "vs20fruitsw"
TRANSFER, SEAMLESS, OPERATOR = "demo", "demo_seamless", "demo_operator"
#: The accounts of each reference wallet; "ghost" has none, so creating it fails (1015) on both.
WALLET_ACCOUNTS = {"test1234": 100_000, "sa": 300, "sb": 5_000, "sc": 250_000, "sd": 1_000}
TRANSFER_NAMES = ["t_ann", "T_ANN", "t_bob", "t_cid"]
SEAMLESS_NAMES = ["sa", "sb", "SC", "sd", "ghost"]
UNKNOWN_USER = 999_999_999
#: Below min_bet (100), more than 4 decimals, ordinary, above most balances.
STAKES = [D(100), D("150.5"), D(1000), D(5000), D(50_000), D(50), D("100.00001")]
DEPOSITS = [D("0.5"), D(100), D("2500.25"), D(100_000), D(2_000_000), D(0)]
SET_POINTS = [D(500), D(1000), D(2500), D(10_000), D(5_000_000)]
ADVANCES = [1, 45, 600, 1900, 3 * 3600, 20 * 3600, 48 * 3600, 49 * 3600, 30 * 86400]
POINT_MOVES = [
    (OPERATOR, TRANSFER),
    (TRANSFER, OPERATOR),
    (OPERATOR, SEAMLESS),
    (SEAMLESS, OPERATOR),
    (TRANSFER, SEAMLESS),  # not parent and child: 1010 on both
]
POINT_AMOUNTS = [D("0.01"), D(1000), D(250_000), D(50_000_000)]
#: Operation kinds; repeated ones are drawn more often.
KINDS = [
    *["user"] * 2,
    *["seamless_user"] * 2,
    *["deposit"] * 3,
    *["withdraw"] * 3,
    "withdraw_all",
    *["round"] * 5,
    *["seamless_round"] * 4,
    *["bonus"] * 2,
    "bonus_cancel",
    *["free_rounds"] * 2,
    "free_round_cancel",
    *["dialect"] * 2,
    *["advance"] * 2,
    *["purge"] * 2,
    *["points"] * 2,
    "kick",
    "settle_fault",
]

_prefixes = itertools.count(1)


# -- the wallets ------------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    def log(self, *args: Any) -> None:
        pass


class WalletSlot:
    """A served URL whose reference wallet app is replaced by a fresh one for each example."""

    def __init__(self) -> None:
        self.app: Any = None
        self.server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)

    def fresh(self) -> str:
        self.app = create_wallet(token=CALLBACK_TOKEN, dialect="auto", accounts=dict(WALLET_ACCOUNTS))
        return self.url


@pytest.fixture(scope="module")
def wallets() -> Iterator[tuple[WalletSlot, WalletSlot]]:
    slots = (WalletSlot(), WalletSlot())
    yield slots
    for slot in slots:
        slot.server.shutdown()
        slot.server.server_close()


# -- one simulator and what the test keeps of it --------------------------------------------


class Twin:
    def __init__(self, name: str, sim: Simulator, wallet_url: str) -> None:
        self.name = name
        self.sim = sim
        #: The session each user plays in, by user_code (launched on first play, again once ended).
        self.sessions: dict[int, int] = {}
        sim.clock.freeze(True)
        sim.clock.set(START)
        seamless = self.agent(SEAMLESS)
        sim.world.hierarchy.apply_settings(
            seamless, {"callback_url": wallet_url, "callback_token": CALLBACK_TOKEN, "callback_dialect": "v4"}
        )

    @property
    def world(self) -> Any:
        return self.sim.world

    @property
    def store(self) -> Any:
        return self.sim.world.store

    def agent(self, name: str) -> Any:
        return self.world.hierarchy.get(name)

    def session(self, user_code: int) -> Any:
        gplay_id = self.sessions.get(user_code)
        session = self.store.session(gplay_id) if gplay_id is not None else None
        if session is None or session.ended:
            user = self.store.user(user_code)
            agent = self.store.agent(user.agent_id)
            launch = self.world.sessions.launch(agent, LaunchRequest(user_code, PROVIDER, GAME, 1))
            session = self.world.sessions.open(launch.token)
            self.sessions[user_code] = session.gplay_id
        return session

    def play(self, user_code: int, stake: Decimal) -> dict[str, Any]:
        return fields_of(self.world.rounds.play(self.session(user_code), stake))


# -- records as comparable values -----------------------------------------------------------


def fields_of(record: Any, drop: tuple[str, ...] = ()) -> Any:
    """A record's fields as a dict (nested records too); ``drop`` names fields left out."""
    if record is None:
        return None
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {
            f.name: fields_of(getattr(record, f.name))
            for f in dataclasses.fields(record)
            if f.name not in drop
        }
    if isinstance(record, dict):
        return {key: fields_of(value) for key, value in record.items()}
    if isinstance(record, list | tuple):
        return [fields_of(value) for value in record]
    return record


def outcome(work: Callable[[], Any]) -> Any:
    """What an operation gave: its value, or the result code it failed with."""
    try:
        return ("ok", work())
    except RoundFailed as failed:
        return ("round failed", int(failed.code), fields_of(failed.round))
    except SimError as error:
        return ("error", int(error.code))


# -- the operations -------------------------------------------------------------------------


class Scenario:
    """Draws operations from the memory twin's state and applies each to both twins."""

    def __init__(self, data: Any, seed: int, memory: Twin, redis: Twin, wallet_urls: tuple[str, str]) -> None:
        self.data = data
        self.seed = seed
        self.wallet_urls = wallet_urls
        self.twins = (memory, redis)
        self.memory = memory
        self.log: list[str] = []

    def draw(self, strategy: Any, label: str) -> Any:
        return self.data.draw(strategy, label=label)

    def pick(self, options: list[Any], label: str) -> Any:
        return self.draw(st.sampled_from(options), label)

    def both(self, what: str, work: Callable[[Twin], Any]) -> Any:
        """Apply ``work`` to each twin and require the same outcome."""
        self.log.append(what)
        mine, theirs = (outcome(lambda twin=twin: work(twin)) for twin in self.twins)
        assert mine == theirs, self.report(f"the outcomes of {what} differ", mine, theirs)
        return mine

    def report(self, title: str, mine: Any, theirs: Any) -> str:
        steps = "\n".join(f"  {n}: {step}" for n, step in enumerate(self.log, 1))
        return f"{title}\nmemory: {mine}\nredis:  {theirs}\nseed {self.seed}, operations:\n{steps}"

    # -- choices from the current state ----------------------------------------------------
    def users(self, agent_name: str) -> list[int]:
        store = self.memory.store
        return [user.user_code for user in store.users_of(store.agent_by_name(agent_name).agent_id)]

    def any_user(self) -> int:
        """Mostly a transfer user of demo; sometimes a seamless one or an unknown code."""
        group = self.pick(["transfer"] * 6 + ["seamless", "unknown"], "user group")
        codes = {"transfer": self.users(TRANSFER), "seamless": self.users(SEAMLESS)}.get(group)
        return self.pick(codes, "user") if codes else UNKNOWN_USER

    # -- one operation ---------------------------------------------------------------------
    def step(self) -> None:
        kind = self.pick(KINDS, "op")
        getattr(self, f"op_{kind}")()
        self.check_money()

    def op_user(self) -> None:
        name = self.pick(TRANSFER_NAMES, "name")
        self.both(
            f"create transfer user {name}",
            lambda t: fields_of(t.world.users.create_or_get(t.agent(TRANSFER), name)),
        )

    def op_seamless_user(self) -> None:
        name = self.pick(SEAMLESS_NAMES, "name")
        self.both(
            f"create seamless user {name}",
            lambda t: fields_of(t.world.users.create_or_get(t.agent(SEAMLESS), name)),
        )

    def op_deposit(self) -> None:
        code, amount = self.any_user(), self.pick(DEPOSITS, "amount")
        self.both(
            f"deposit {amount} to {code}",
            lambda t: fields_of(t.world.ledger.deposit_to(t.agent(TRANSFER), code, amount)),
        )

    def op_withdraw(self) -> None:
        code = self.any_user()
        user = self.memory.store.user(code)
        balance = user.balance if user is not None else D(0)
        how = self.pick(["part", "all", "over", "fixed"], "withdrawal")
        amount = {
            "part": (balance / 3).quantize(D("0.01")),
            "all": balance,
            "over": balance + D("0.01"),  # one cent short: 1011 on both
            "fixed": D(100),
        }[how]
        self.both(
            f"withdraw {amount} ({how}) from {code}",
            lambda t: fields_of(t.world.ledger.withdraw_from(t.agent(TRANSFER), code, amount)),
        )

    def op_withdraw_all(self) -> None:
        code = self.any_user()
        self.both(
            f"withdraw all from {code}",
            lambda t: fields_of(t.world.ledger.withdraw_all_from(t.agent(TRANSFER), code)),
        )

    def op_round(self) -> None:
        codes = self.users(TRANSFER)
        code, stake = self.pick(codes, "player"), self.pick(STAKES, "stake")
        self.both(f"transfer round of {code} at {stake}", lambda t: t.play(code, stake))

    def op_seamless_round(self) -> None:
        codes = self.users(SEAMLESS)
        code, stake = self.pick(codes, "player"), self.pick(STAKES, "stake")
        dialect = self.memory.store.agent_by_name(SEAMLESS).settings.callback_dialect
        self.both(f"seamless ({dialect}) round of {code} at {stake}", lambda t: t.play(code, stake))

    def op_bonus(self) -> None:
        """Start a bonus call on a player's session, spin under it, maybe cancel it."""
        code = self.pick(self.users(TRANSFER) + self.users(SEAMLESS), "player")
        set_point = self.pick(SET_POINTS, "set_point")
        spins = self.draw(st.integers(0, 4), "spins")
        stake = self.pick(STAKES[:4], "stake")
        cancel = self.draw(st.booleans(), "cancel")

        def bonus(t: Twin) -> list[Any]:
            session = t.session(code)
            agent = t.store.agent(session.agent_id)
            started = outcome(lambda: fields_of(t.world.bonus.start(agent, session.gplay_id, set_point)))
            steps = [started]
            steps += [outcome(lambda: t.play(code, stake)) for _ in range(spins)]
            if cancel and started[0] == "ok":
                call_id = started[1]["call_id"]
                steps.append(outcome(lambda: fields_of(t.world.bonus.cancel(agent, call_id))))
            return steps

        self.both(
            f"bonus call of {code} set_point {set_point}, {spins} spins at {stake}, cancel {cancel}",
            bonus,
        )

    def op_bonus_cancel(self) -> None:
        store = self.memory.store
        known = [
            (name, call.call_id)
            for name in (TRANSFER, SEAMLESS)
            for call in store.bonus_calls_of(store.agent_by_name(name).agent_id)
        ]
        name, call_id = self.pick([*known, (TRANSFER, 4242)], "call")
        self.both(
            f"cancel bonus call {call_id} as {name}",
            lambda t: fields_of(t.world.bonus.cancel(t.agent(name), call_id)),
        )

    def op_free_rounds(self) -> None:
        """Grant free rounds to a player, then play some spins."""
        code = self.pick(self.users(TRANSFER) + self.users(SEAMLESS), "player")
        rounds = self.draw(st.integers(1, 4), "rounds")
        bet = self.pick([D(100), D(200), D("250.5")], "bet")
        cap = self.pick([D(0), D(300)], "win cap")
        lifetime = self.pick([30, 45, 180], "lifetime minutes") * 60_000
        spins = self.draw(st.integers(0, 4), "spins")

        def free_rounds(t: Twin) -> list[Any]:
            agent = t.store.agent(t.store.user(code).agent_id)
            expiry = t.sim.clock.millis() + lifetime
            request = FreeRoundRequest(code, PROVIDER, GAME, bet, rounds, expiry, cap)
            steps = [outcome(lambda: fields_of(t.world.free_rounds.grant(agent, request)))]
            return steps + [outcome(lambda: t.play(code, D(100))) for _ in range(spins)]

        self.both(
            f"grant {code} {rounds} free rounds at {bet} (cap {cap}, {lifetime // 60_000} min), "
            f"{spins} spins",
            free_rounds,
        )

    def op_free_round_cancel(self) -> None:
        store = self.memory.store
        known = [
            (name, grant.fr_id)
            for name in (TRANSFER, SEAMLESS)
            for grant in store.grants_of(store.agent_by_name(name).agent_id)
        ]
        name, fr_id = self.pick([*known, (TRANSFER, "FR-1-000001")], "grant")
        self.both(
            f"cancel free rounds {fr_id} as {name}",
            lambda t: fields_of(t.world.free_rounds.cancel(t.agent(name), fr_id)),
        )

    def op_dialect(self) -> None:
        dialect = self.pick(["v4", "legacy"], "dialect")

        def switch(t: Twin) -> str:
            agent = t.world.hierarchy.apply_settings(t.agent(SEAMLESS), {"callback_dialect": dialect})
            return agent.settings.callback_dialect

        self.both(f"callback dialect {dialect}", switch)

    def op_advance(self) -> None:
        seconds = self.pick(ADVANCES, "seconds")

        def advance(t: Twin) -> datetime:
            t.sim.clock.advance(seconds)
            return t.sim.clock.now()

        self.both(f"advance the clock {seconds} s", advance)

    def op_purge(self) -> None:
        self.both(
            "purge",
            lambda t: fields_of(History(t.store, t.sim.clock, poll_throttle=False).purge()),
        )

    def op_points(self) -> None:
        source, target = self.pick(POINT_MOVES, "between")
        amount = self.pick(POINT_AMOUNTS, "amount")

        def move(t: Twin) -> Any:
            ptx, source_agent, target_agent = t.world.hierarchy.transfer_points(source, target, amount)
            return fields_of(ptx)

        self.both(f"move {amount} points from {source} to {target}", move)

    def op_kick(self) -> None:
        name = self.pick([TRANSFER, SEAMLESS], "agent")
        code = self.pick(self.users(name), "player")
        self.both(f"kick {code}", lambda t: t.world.sessions.kick(t.agent(name), code))

    def op_settle_fault(self) -> None:
        """The next settlement of the agent's rounds fails: that round is refunded (BetCancel)."""
        name = self.pick([TRANSFER, SEAMLESS], "agent")
        rule = {"agent": name, "target": "round:settle", "effect": {"fail": True}, "times": 1}

        def fault(t: Twin) -> None:
            t.sim.faults.add(dict(rule))

        self.both(f"fail the next settlement of {name}", fault)

    # -- comparisons -----------------------------------------------------------------------
    def check_money(self) -> None:
        """After each operation: every agent's points, every user's balance and last balance."""
        mine, theirs = (money(twin.store) for twin in self.twins)
        assert mine == theirs, self.report("points or balances differ", mine, theirs)

    def same(self, what: str, mine: Any, theirs: Any) -> None:
        assert mine == theirs, self.report(f"{what} differ at the end", mine, theirs)


def money(store: Any) -> dict[str, Any]:
    agents = store.all_agents()
    return {
        "points": {agent.name: agent.points for agent in agents},
        "users": {
            user.user_code: (user.balance, user.last_balance)
            for agent in agents
            for user in store.users_of(agent.agent_id)
        },
    }


def agent_fields(agent: Any) -> dict[str, Any]:
    """An agent's fields but its creation time, its callback URL (whether it has one) and the
    tokens the fixtures leave to chance (``new_token()`` at each build)."""
    fixed_token = agent.name in (TRANSFER, SEAMLESS)
    values = fields_of(agent, ("created_at",) if fixed_token else ("created_at", "api_token"))
    if agent.name != SEAMLESS:
        del values["settings"]["callback_token"]
    # Each simulator's demo_seamless calls its own wallet: the URLs differ, the mode does not.
    values["settings"]["callback_url"] = bool(agent.settings.callback_url)
    return values


def compare_worlds(scenario: Scenario, fixture_ids: dict[str, int]) -> None:
    """The two states, field by field.

    Records made while the fixtures loaded carry the wall-clock time of each
    simulator's start (the clocks were frozen after it), so their ``created_at``
    is left out.
    """
    memory, redis = scenario.twins

    def same(what: str, read: Callable[[Twin], Any]) -> None:
        scenario.same(what, read(memory), read(redis))

    def since_start(record: Any, record_id: int, first: str) -> Any:
        return fields_of(record, ("created_at",) if record_id < fixture_ids[first] else ())

    same("id counters", lambda t: t.store.sequences())
    same(
        "counts",
        lambda t: (
            t.store.user_count(),
            t.store.transaction_count(),
            t.store.round_count(),
            t.store.session_count(),
        ),
    )
    same("agents", lambda t: [agent_fields(agent) for agent in t.store.all_agents()])
    for twin, url in zip(scenario.twins, scenario.wallet_urls, strict=True):
        assert twin.world.hierarchy.get(SEAMLESS).settings.callback_url == url
    agent_ids = [agent.agent_id for agent in memory.store.all_agents()]
    same(
        "users",
        lambda t: [
            since_start(user, user.user_code, "user") for a in agent_ids for user in t.store.users_of(a)
        ],
    )
    audits = [twin.world.ledger.audit() for twin in scenario.twins]
    assert all(audit.conserved for audit in audits), scenario.report("the audit is not conserved", *audits)
    same("ledger audits", lambda t: fields_of(t.world.ledger.audit()))
    same("money totals", lambda t: fields_of(t.store.money_totals()))
    same(
        "point movements",
        lambda t: [since_start(ptx, ptx.point_trans_id, "point") for ptx in t.store.all_point_transactions()],
    )
    now = memory.sim.clock.now()

    def history_of(agent_id: int) -> None:
        same(
            f"history rows of agent {agent_id}",
            lambda t: [since_start(tx, tx.trans_id, "trans") for tx in t.store.transactions_of(agent_id)],
        )
        same(
            f"transaction-id answers of agent {agent_id}",
            lambda t: [
                tx.trans_id
                for tx in History(t.store, t.sim.clock, poll_throttle=False).after(agent_id, 0, 1000)
            ],
        )
        for start in (now - timedelta(hours=1), now - timedelta(hours=24)):
            window(agent_id, start, now + timedelta(seconds=1))

    def window(agent_id: int, start: datetime, end: datetime) -> None:
        same(
            f"the window {start} - {end} of agent {agent_id}",
            lambda t: fields_of(t.store.window(agent_id, start, end, 0, 1000)),
        )

    def play_of(agent_id: int) -> None:
        same(f"rounds of agent {agent_id}", lambda t: fields_of(t.store.rounds_of(agent_id)))
        same(f"round statistics of agent {agent_id}", lambda t: fields_of(t.store.round_stats_of(agent_id)))
        same(
            f"sessions of agent {agent_id}",
            lambda t: [fields_of(s, ("secret",)) for s in t.store.sessions_of(agent_id)],
        )
        same(f"bonus calls of agent {agent_id}", lambda t: fields_of(t.store.bonus_calls_of(agent_id)))
        same(f"free-round grants of agent {agent_id}", lambda t: fields_of(t.store.grants_of(agent_id)))

    for agent_id in agent_ids:
        history_of(agent_id)
        play_of(agent_id)


# -- the property ---------------------------------------------------------------------------


@settings(
    max_examples=8,
    deadline=None,
    database=None,
    # No shrinking: the failure message lists every operation and the seed, and shrinking
    # a run of two simulators and two wallets would take minutes.
    phases=[Phase.generate],
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), seed=st.integers(1, 2**31 - 1), length=st.integers(30, 60))
def test_both_stores_play_a_random_sequence_alike(redis_server: RedisServer, wallets, data, seed, length):
    memory_wallet, redis_wallet = (slot.fresh() for slot in wallets)
    memory_sim = Simulator(Settings(store="memory", seed=seed))
    redis_sim = None
    try:
        prefix = f"eq{next(_prefixes)}:"
        redis_sim = Simulator(Settings(store=redis_server.url, store_prefix=prefix, seed=seed))
        memory, redis = Twin("memory", memory_sim, memory_wallet), Twin("redis", redis_sim, redis_wallet)
        sequences = memory.store.sequences()
        fixture_ids = {
            "user": sequences["user_codes"],
            "trans": sequences["trans_ids"],
            "point": sequences["point_trans_ids"],
        }
        scenario = Scenario(data, seed, memory, redis, (memory_wallet, redis_wallet))
        scenario.check_money()
        for _ in range(length):
            scenario.step()
        for sim in (memory_sim, redis_sim):
            assert sim.retries.wait_idle(10), "a win or cancel is still on its retries"
        compare_worlds(scenario, fixture_ids)
    finally:
        memory_sim.close()
        if redis_sim is not None:
            redis_sim.backend.drop_everything()
            redis_sim.close()
