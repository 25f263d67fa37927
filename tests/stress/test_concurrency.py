"""Concurrency stress on the live server: mixed money operations from many threads, then every identity.

Many client threads run a seeded mix of operations across several agents of
both wallet modes and many of their players: user creation (each name twice
at once), deposits, withdrawals, withdraw-all, rounds through ``/control/play``
in transfer mode (one agent's rounds fail now and then and are refunded) and
in seamless mode (against the reference wallet, ``examples.wallet``, on a
local port), points grants and recalls between an
operator and its agents, balance reads, and snapshots taken in the middle of
it all.  Bursts of slow ``agent/info`` calls (a ``latency_ms`` fault) fill one
agent's 50 in-flight slots while its money operations keep coming, so ``1018``
really happens.  Every answer is recorded with its client-side start and end.

Afterwards, from the history (admin API, paged), the agents, the point
movements, the wallet's books and snapshots:

- every answer is a success or an expected refusal (2005, 2006, 1018, 31);
- ``1018`` only for a request that overlapped at least 50 other ``/v4``
  requests of its agent (the client sees each request's whole life, so the
  server's count at the refusal can only be lower);
- no lost update: each player's rows are exactly the operations answered OK
  (same types, amounts and resulting balances), none of the refused ones;
  balances, agents' points and wallet accounts equal the sums of the successes;
- spec 10: rows chain (prebalance = previous balance, balance - prebalance =
  signed amount), ``trans_id`` increases and never repeats, each round has one
  Bet then one Win (or BetCancel), each Win follows its Bet, each agent's
  points equal its point movements plus its players' movements;
- conservation in every snapshot, mid-run ones included: agents' points + held
  + transfer balances + house = points issued, with the house recomputed from
  the rows.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from examples.wallet.wallet import DEFAULT_TOKEN, create_app
from tests.live import conftest as live_fixtures
from tests.live.conftest import LiveServer, free_port

#: The live server fixtures (``tests/live/conftest.py``), for this directory too.
live_server, live = live_fixtures.live_server, live_fixtures.live

INFLIGHT_LIMIT = int(os.environ.get("SCORPIO_SIM_INFLIGHT_LIMIT", "50"))
OPERATOR = "stress_op"
TRANSFER_AGENTS = ("stress_t1", "stress_t2", "stress_t3")
SEAMLESS_AGENTS = ("stress_s1", "stress_s2")
#: Its ``agent/info`` answers after a latency fault, so a burst of them holds all its slots.
BUSY_AGENT = "stress_t1"
#: Long enough that every call of a burst holds its slot before the first answers, even on the
#: Redis store under CI load (each request there costs a few Redis round trips first).
BURST_LATENCY_MS = 1500
#: One round in ten of this agent fails between stake and settlement and is refunded (BetCancel).
FAILING_AGENT = "stress_t2"
WALLET_OPENING = Decimal(1_000_000)
BET, WIN, DEPOSIT, WITHDRAW, BET_CANCEL, BONUS_CALL = 1, 2, 4, 8, 16, 32
SIGN = {BET: -1, WIN: 1, DEPOSIT: 1, WITHDRAW: -1, BET_CANCEL: 1, BONUS_CALL: 1}
#: What a refusal may be: a v4 code, or a ``/control/play`` error name.
REFUSALS = {2005, 2006, 1018, "BALANCE_NOT_ENOUGH", "POINT_NOT_ENOUGH"}


def number(text: bytes) -> Any:
    """JSON with exact decimals: sums of amounts must not drift."""
    return json.loads(text, parse_float=Decimal)


@dataclass
class Answer:
    kind: str
    agent: str | None
    start: float
    end: float
    status: int
    body: Any
    args: dict = field(default_factory=dict)
    #: Whose in-flight slot the request took: ``/v4`` calls only.
    v4: bool = False

    @property
    def code(self) -> int | None:
        return self.body.get("code") if self.v4 and isinstance(self.body, dict) else None

    @property
    def ok(self) -> bool:
        return self.status == 200 and (not self.v4 or self.code == 0)


@dataclass
class Figures:
    operations: int = 0
    requests: int = 0
    busy: int = 0
    busy_kinds: Counter = field(default_factory=Counter)
    checks: Counter = field(default_factory=Counter)

    def check(self, what: str, condition: bool, detail: Any = "") -> None:
        self.checks[what] += 1
        assert condition, f"{what}: {detail}"


class Client:
    """Thread-local keep-alive sessions; every answer is recorded with its client-side times."""

    def __init__(self, server: LiveServer, tokens: dict[str, str]) -> None:
        self.base = server.base_url
        self.admin_headers = server.control_headers
        self.tokens = tokens
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _send(self, kind: str, agent: str | None, method: str, url: str, body: Any, headers: dict, v4: bool):
        start = time.monotonic()
        response = self._session().request(method, url, json=body, headers=headers, timeout=60)
        end = time.monotonic()
        try:
            parsed = number(response.content)
        except ValueError:
            parsed = response.text
        answer = Answer(kind, agent, start, end, response.status_code, parsed, dict(body or {}), v4)
        with self._lock:
            self.answers.append(answer)
        return answer

    def v4(self, agent: str, path: str, body: dict | None = None, kind: str | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.tokens[agent]}"}
        return self._send(kind or path, agent, "POST", f"{self.base}/v4/{path}", body or {}, headers, True)

    def control(self, method: str, path: str, body: Any = None, kind: str = "", agent: str | None = None):
        url = f"{self.base}/control/{path}"
        return self._send(kind or path, agent, method, url, body, self.admin_headers, False)

    def admin(self, method: str, path: str, body: Any = None, kind: str = "", agent: str | None = None):
        url = f"{self.base}/admin/api/{path}"
        return self._send(kind or path, agent, method, url, body, self.admin_headers, False)

    def close(self) -> None:
        for session in self._sessions:
            session.close()


class ReferenceWallet:
    """``examples.wallet`` on a loopback port: the seamless players' books."""

    def __init__(self, accounts: list[str]) -> None:
        self.app = create_app(token=DEFAULT_TOKEN, accounts=dict.fromkeys(accounts, WALLET_OPENING))
        self.ledger = self.app.extensions["wallet_ledger"]
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/callback"
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per callback
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def balance(self, account: str) -> Decimal:
        with self.ledger.lock:
            return self.ledger.accounts[account].balance

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Plan:
    operations: int
    threads: int
    transfer_players: int
    seamless_players: int
    bursts: int
    burst_size: int
    snapshots: int
    seed: int


class Stress:
    def __init__(self, server: LiveServer, plan: Plan) -> None:
        self.live = server
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.figures = Figures()
        self.players: dict[str, list[str]] = {}
        self.codes: dict[tuple[str, str], int] = {}
        self.initial_points: dict[str, Decimal] = {}
        self.snapshots: list[Any] = []
        self.wallet: ReferenceWallet | None = None
        self.client: Client | None = None

    # -- setting up ---------------------------------------------------------------------------
    def setup(self) -> None:
        def admin(method: str, path: str, body: Any = None) -> Any:
            answer = requests.request(
                method,
                f"{self.live.base_url}/admin/api/{path}",
                json=body,
                headers=self.live.control_headers,
                timeout=10,
            )
            assert answer.status_code in (200, 201), answer.text
            return number(answer.content)

        plan = self.plan
        tokens = {}
        admin(
            "POST",
            "agents",
            {"name": OPERATOR, "kind": "operator", "parent": "scorpio_broker", "points": 3_000_000},
        )
        for name in TRANSFER_AGENTS + SEAMLESS_AGENTS:
            created = admin(
                "POST", "agents", {"name": name, "kind": "agent", "parent": OPERATOR, "points": 150_000}
            )
            tokens[name] = created["api_token"]
        for name in TRANSFER_AGENTS:
            self.players[name] = [f"{name}_p{n:02d}" for n in range(plan.transfer_players)]
        accounts = []
        for name in SEAMLESS_AGENTS:
            self.players[name] = [f"{name}_p{n:02d}" for n in range(plan.seamless_players)]
            accounts += self.players[name]
        self.wallet = ReferenceWallet(accounts)
        for name in SEAMLESS_AGENTS:
            patched = admin(
                "PATCH", f"agents/{name}", {"callback_url": self.wallet.url, "callback_token": DEFAULT_TOKEN}
            )
            assert patched["mode"] == "seamless"
        for name in (OPERATOR,) + TRANSFER_AGENTS + SEAMLESS_AGENTS:
            self.initial_points[name] = admin("GET", f"agents/{name}")["points"]
        fault = {
            "agent": BUSY_AGENT,
            "target": "api:/v4/agent/info",
            "effect": {"latency_ms": BURST_LATENCY_MS},
        }
        assert self.live.control("POST", "faults", fault).status_code == 201
        refunds = {
            "agent": FAILING_AGENT,
            "target": "round:settle",
            "effect": {"fail": True},
            "probability": 0.1,
        }
        assert self.live.control("POST", "faults", refunds).status_code == 201
        self.client = Client(self.live, tokens)

    # -- the operations ----------------------------------------------------------------------
    def create_players(self) -> None:
        """Every player is created by two requests at once: one user_code, one ``is_new_user``."""
        jobs = [(agent, name) for agent, names in self.players.items() for name in names for _ in range(2)]
        self.rng.shuffle(jobs)
        with ThreadPoolExecutor(self.plan.threads) as pool:
            answers = list(
                pool.map(lambda job: self.client.v4(job[0], "user/create", {"name": job[1]}), jobs)
            )
        by_name: dict[tuple[str, str], list[Answer]] = defaultdict(list)
        for (agent, name), answer in zip(jobs, answers, strict=True):
            self.figures.check("user/create answered OK", answer.ok, answer.body)
            by_name[(agent, name)].append(answer)
        for key, pair in by_name.items():
            codes = {a.body["data"]["user_code"] for a in pair}
            self.figures.check("same name at once -> one user_code", len(codes) == 1, (key, codes))
            new = sorted(a.body["data"]["is_new_user"] for a in pair)
            self.figures.check("same name at once -> one new user", new == [False, True], (key, new))
            self.codes[key] = codes.pop()
        self.figures.check("user_codes are distinct", len(set(self.codes.values())) == len(self.codes))
        self.figures.operations += len(jobs)

    def fund_players(self) -> None:
        """An opening deposit for every transfer player (the mix then withdraws and plays)."""
        jobs = [(agent, name) for agent in TRANSFER_AGENTS for name in self.players[agent]]
        with ThreadPoolExecutor(self.plan.threads) as pool:
            list(pool.map(lambda job: self._deposit(job[0], job[1], 5_000), jobs))
        self.figures.operations += len(jobs)

    def _deposit(self, agent: str, name: str, amount: int) -> Answer:
        body = {"user_code": self.codes[(agent, name)], "amount": amount}
        return self.client.v4(agent, "wallet/deposit", body)

    def _operation(self) -> tuple:
        rng = self.rng
        roll = rng.random()
        agent = rng.choice(TRANSFER_AGENTS)
        name = rng.choice(self.players[agent])
        if roll < 0.22:
            return ("deposit", agent, name, rng.randint(1, 3_000))
        if roll < 0.36:
            return ("withdraw", agent, name, rng.randint(1, 4_000))
        if roll < 0.40:
            return ("withdraw_all", agent, name)
        if roll < 0.58:
            return ("play", agent, name, rng.choice([100, 250, 500]), rng.randint(1, 3))
        if roll < 0.72:
            seamless = rng.choice(SEAMLESS_AGENTS)
            return (
                "play",
                seamless,
                rng.choice(self.players[seamless]),
                rng.choice([100, 300]),
                rng.randint(1, 2),
            )
        if roll < 0.80:
            child = rng.choice(TRANSFER_AGENTS + SEAMLESS_AGENTS)
            return ("points", child, rng.random() < 0.5, rng.randint(1, 20_000))
        if roll < 0.85:
            return (
                "create",
                agent,
                rng.choice(self.players[agent] + [f"{agent}_late{rng.randint(0, 99):02d}"]),
            )
        if roll < 0.95:
            return ("user_info", agent, name)
        return ("agent_info", rng.choice([a for a in TRANSFER_AGENTS + SEAMLESS_AGENTS if a != BUSY_AGENT]))

    def run(self, operation: tuple) -> None:
        kind, *args = operation
        client = self.client
        if kind == "deposit":
            self._deposit(*args)
        elif kind == "withdraw":
            agent, name, amount = args
            client.v4(agent, "wallet/withdraw", {"user_code": self.codes[(agent, name)], "amount": amount})
        elif kind == "withdraw_all":
            agent, name = args
            client.v4(agent, "wallet/withdraw-all", {"user_code": self.codes[(agent, name)]})
        elif kind == "play":
            agent, name, bet, rounds = args
            body = {
                "agent": agent,
                "user_code": self.codes[(agent, name)],
                "provider_id": 1,
                "game_code": "vs20fruitsw",
                "bet": bet,
                "rounds": rounds,
            }
            client.control("POST", "play", body, kind="play", agent=agent)
        elif kind == "points":
            child, grant, amount = args
            source, target = (OPERATOR, child) if grant else (child, OPERATOR)
            body = {"from": source, "to": target, "amount": amount}
            client.admin("POST", "points/transfer", body, kind="points", agent=child)
        elif kind == "create":
            agent, name = args
            client.v4(agent, "user/create", {"name": name}, kind="create_again")
        elif kind == "user_info":
            agent, name = args
            client.v4(agent, "user/info", {"user_code": self.codes[(agent, name)]})
        elif kind == "agent_info":
            client.v4(args[0], "agent/info")
        elif kind == "snapshot":
            answer = client.control("GET", "snapshot")
            assert answer.status == 200, answer.body
            self.snapshots.append(answer.body)
            answer.body = None  # kept once, in self.snapshots

    def burst(self) -> None:
        """More ``agent/info`` calls of the busy agent at once than it has slots.

        The calls wait on a barrier, so they leave together even while the mix keeps
        every other thread busy.
        """
        size = self.plan.burst_size
        barrier = threading.Barrier(size)

        def call(_: int) -> Answer:
            barrier.wait(30)
            return self.client.v4(BUSY_AGENT, "agent/info", kind="burst")

        with ThreadPoolExecutor(size) as pool:
            list(pool.map(call, range(size)))

    def mix(self) -> None:
        plan = self.plan
        operations = [self._operation() for _ in range(plan.operations - plan.snapshots)]
        for number_ in range(plan.snapshots):
            operations.insert((number_ + 1) * len(operations) // (plan.snapshots + 1), ("snapshot",))
        with ThreadPoolExecutor(plan.threads) as pool:
            futures = [pool.submit(self.run, op) for op in operations]
            for number_ in range(plan.bursts):
                due = (number_ + 1) * len(operations) // (plan.bursts + 1)
                while sum(f.done() for f in futures) < due:
                    time.sleep(0.005)
                self.burst()
            for future in futures:
                future.result()
        self.figures.operations += len(operations)

    # -- the checks ------------------------------------------------------------------------------
    def collect(self) -> dict[str, Any]:
        """History rows, players, agents' points and point movements, after the run."""
        get = lambda path: number(  # noqa: E731
            requests.get(f"{self.live.base_url}/admin/api/{path}", headers=self.live.control_headers).content
        )
        state: dict[str, Any] = {"rows": {}, "users": {}, "points": {}, "moves": {}}
        for agent in (OPERATOR,) + TRANSFER_AGENTS + SEAMLESS_AGENTS:
            rows: list[dict] = []
            while agent != OPERATOR:
                page = get(f"agents/{agent}/transactions?limit=2000&offset={len(rows)}")
                rows += page["list"]
                if len(rows) >= page["total"]:
                    break
            state["rows"][agent] = rows
            state["users"][agent] = {u["user_code"]: u for u in get(f"agents/{agent}/users")}
            state["points"][agent] = get(f"agents/{agent}")["points"]
            state["moves"][agent] = get(f"agents/{agent}/point-transactions")
            pending = get(f"agents/{agent}/pending-callbacks")
            self.figures.check("no callback left pending", pending == [], pending)
        return state

    def check_answers(self) -> None:
        answers = self.client.answers
        self.figures.requests = len(answers)
        unexpected = []
        for a in answers:
            if a.kind == "snapshot" or a.ok:
                continue
            if a.v4 and a.code in REFUSALS:
                continue
            if not a.v4 and a.status == 409 and a.kind == "points":
                continue
            unexpected.append((a.kind, a.agent, a.status, a.body))
        self.figures.check("every answer is a success or an expected refusal", not unexpected, unexpected[:5])
        for a in answers:
            if a.kind == "play" and a.ok:
                for r in a.body:
                    statuses = ("settled", "refused") + (("refunded",) if a.agent == FAILING_AGENT else ())
                    self.figures.check("rounds settle, are refused or refunded", r["status"] in statuses, r)
                    if r["status"] == "refused":
                        self.figures.check("round refusals are expected", r["error"] in REFUSALS, r)

    def check_busy_only_beyond_the_limit(self) -> None:
        by_agent: dict[str, list[Answer]] = defaultdict(list)
        for a in self.client.answers:
            if a.v4:
                by_agent[a.agent].append(a)
        for agent, calls in by_agent.items():
            calls.sort(key=lambda a: a.start)
            starts = [a.start for a in calls]
            for busy in (a for a in calls if a.code == 1018):
                self.figures.busy += 1
                self.figures.busy_kinds[busy.kind] += 1
                # Requests that started before this one ended and ended after it started.
                candidates = calls[: bisect.bisect_left(starts, busy.end)]
                overlapping = sum(1 for a in candidates if a is not busy and a.end > busy.start)
                self.figures.check(
                    "1018 only beyond the in-flight limit",
                    overlapping >= INFLIGHT_LIMIT,
                    (agent, busy.kind, overlapping),
                )
        if self.plan.bursts:
            self.figures.check("the bursts met the limit", self.figures.busy > 0)

    def expected_rows(self) -> tuple[dict[int, Counter], dict[str, Decimal], dict[str, Decimal]]:
        """From the answers: each player's rows (type, amount, balance or None) and the money moved."""
        rows: dict[int, Counter] = defaultdict(Counter)
        points = dict(self.initial_points)
        wallet = defaultdict(Decimal)
        for a in self.client.answers:
            if not a.ok:
                continue
            if a.kind in ("wallet/deposit", "wallet/withdraw", "wallet/withdraw-all"):
                data = a.body["data"]
                amount = data["amount"]
                if amount == 0:
                    continue
                trans_type = DEPOSIT if a.kind == "wallet/deposit" else WITHDRAW
                rows[a.args["user_code"]][(trans_type, amount, data["balance"])] += 1
                points[a.agent] += -amount if trans_type == DEPOSIT else amount
            elif a.kind == "points":
                moved = a.body["amount"]
                points[a.body["from"]["name"]] -= moved
                points[a.body["to"]["name"]] += moved
            elif a.kind == "play":
                user_code = a.args["user_code"]
                for r in a.body:
                    if r["status"] == "refunded":
                        rows[user_code][(BET, r["bet"], None)] += 1
                        rows[user_code][(BET_CANCEL, r["bet"], None)] += 1
                    if r["status"] != "settled":
                        continue
                    rows[user_code][(BET, r["bet"], None)] += 1
                    rows[user_code][(WIN, r["win"], None)] += 1
                    if a.agent in SEAMLESS_AGENTS:  # OP-3: bets take points, wins give them back
                        points[a.agent] += r["win"] - r["bet"]
                        wallet[a.agent, user_code] += r["win"] - r["bet"]
        return rows, points, wallet

    def check_history(self, state: dict[str, Any]) -> None:
        expected_rows, expected_points, wallet_moves = self.expected_rows()
        figures = self.figures
        all_ids: list[int] = []
        for agent in TRANSFER_AGENTS + SEAMLESS_AGENTS:
            rows = state["rows"][agent]
            ids = [r["trans_id"] for r in rows]
            figures.check("trans_id increases within an agent", ids == sorted(set(ids)), agent)
            all_ids += ids
            by_user: dict[int, list[dict]] = defaultdict(list)
            for r in rows:
                by_user[r["user_code"]].append(r)
            for user_code, user in state["users"][agent].items():
                mine = by_user.get(user_code, [])
                seen = Counter(
                    (
                        r["trans_type"],
                        r["trans_amount"],
                        r["balance"] if r["trans_type"] in (DEPOSIT, WITHDRAW) else None,
                    )
                    for r in mine
                )
                figures.check(
                    "rows are exactly the operations answered OK", seen == expected_rows[user_code], user_code
                )
                self._check_rounds(mine)
                if agent in SEAMLESS_AGENTS:
                    account = user["name"]
                    figures.check(
                        "wallet account = opening + sum of settled rounds",
                        self.wallet.balance(account) == WALLET_OPENING + wallet_moves[agent, user_code],
                        account,
                    )
                    continue
                previous = Decimal(0)
                for r in mine:
                    figures.check(
                        "a row chains onto the player's previous row",
                        r["prebalance"] == previous
                        and r["balance"] - r["prebalance"] == SIGN[r["trans_type"]] * r["trans_amount"],
                        r,
                    )
                    previous = r["balance"]
                figures.check("balance = sum of the player's rows", user["balance"] == previous, user_code)
        figures.check("trans_id never repeats across agents", len(all_ids) == len(set(all_ids)))
        for agent, points in state["points"].items():
            figures.check("agent points = sum of the successes", points == expected_points[agent], agent)
            self._check_points_identity(agent, points, state)

    def _check_rounds(self, rows: list[dict]) -> None:
        """Spec 10: one Bet, then one Win or BetCancel, with the Win after its Bet."""
        by_round: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            if r["round_id"]:
                by_round[r["round_id"]].append(r)
        for round_id, mine in by_round.items():
            types = [r["trans_type"] for r in mine]
            self.figures.check(
                "a round is one Bet then one Win or BetCancel",
                types in ([BET, WIN], [BET, BET_CANCEL]),
                (round_id, types),
            )

    def _check_points_identity(self, agent: str, points: Decimal, state: dict[str, Any]) -> None:
        """Points = point movements in - out, minus deposits plus withdrawals (transfer), minus
        stakes plus wins and refunds (seamless, OP-3)."""
        moved = Decimal(0)
        for m in state["moves"][agent]:
            if m["to"] == agent and m["from"] != agent:
                moved += m["amount"]
            if m["from"] == agent and m["to"] != agent:
                moved -= m["amount"]
        for r in state["rows"].get(agent, []):
            amount = r["trans_amount"]
            if agent in SEAMLESS_AGENTS:
                moved += (
                    -amount
                    if r["trans_type"] == BET
                    else amount
                    if r["trans_type"] in (WIN, BET_CANCEL)
                    else 0
                )
            else:
                moved += (
                    -amount if r["trans_type"] == DEPOSIT else amount if r["trans_type"] == WITHDRAW else 0
                )
        self.figures.check(
            "agent points = its point movements + its players' movements", points == moved, agent
        )

    def check_conservation(self, snapshot: dict[str, Any], label: str) -> None:
        store = snapshot["store"]
        issued = sum(
            (Decimal(str(p["amount"])) for p in store["point_transactions"] if p["kind"] == "issue"),
            Decimal(0),
        )
        points = sum((Decimal(str(a["points"])) for a in store["agents"]), Decimal(0))
        held = sum((Decimal(v) for v in store["held_points"].values()), Decimal(0))
        transfer = [u for u in store["users"] if u["mode"] == "transfer"]
        balances = sum((Decimal(str(u["balance"])) for u in transfer), Decimal(0))
        house = sum((Decimal(v) for v in store["house_net"].values()), Decimal(0))
        self.figures.check(f"conservation ({label})", points + held + balances + house == issued, label)
        seamless_agents = {a["agent_id"] for a in store["agents"] if a["settings"]["callback_url"]}
        from_rows = Decimal(0)
        movements: dict[int, Decimal] = {int(k): Decimal(v) for k, v in store["purged_movement"].items()}
        for tx in store["transactions"]:
            amount, trans_type = Decimal(str(tx["trans_amount"])), tx["trans_type"]
            if trans_type == BET:
                from_rows += amount
            elif trans_type in (WIN, BET_CANCEL) or (
                trans_type == BONUS_CALL and tx["agent_id"] not in seamless_agents
            ):
                from_rows -= amount
            movements[tx["user_code"]] = (
                movements.get(tx["user_code"], Decimal(0))
                + Decimal(str(tx["balance"]))
                - Decimal(str(tx["prebalance"]))
            )
        self.figures.check(
            f"house = stakes - wins - refunds ({label})", house == from_rows, (house, from_rows)
        )
        for u in transfer:
            self.figures.check(
                f"balance = sum of movements ({label})",
                Decimal(str(u["balance"])) == movements.get(u["user_code"], Decimal(0)),
                u["user_code"],
            )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.wallet is not None:
            self.wallet.close()


def run_stress(server: LiveServer, plan: Plan) -> Figures:
    stress = Stress(server, plan)
    try:
        stress.setup()
        started = time.monotonic()
        stress.create_players()
        stress.fund_players()
        stress.mix()
        elapsed = time.monotonic() - started
        stress.check_answers()
        stress.check_busy_only_beyond_the_limit()
        stress.check_history(stress.collect())
        for number_, snapshot in enumerate(stress.snapshots, 1):
            stress.check_conservation(snapshot, f"mid-run snapshot {number_}")
        final = requests.get(
            f"{server.base_url}/control/snapshot", headers=server.control_headers, timeout=60
        )
        stress.check_conservation(number(final.content), "final snapshot")
    finally:
        stress.close()
    figures = stress.figures
    print(  # the figures of a run (pytest -s)
        f"\nstress: {figures.operations} operations, {figures.requests} requests recorded "
        f"({figures.busy} x 1018: {dict(figures.busy_kinds)}) in {elapsed:.1f} s, {plan.threads} threads; "
        f"{sum(figures.checks.values())} identity checks: {dict(figures.checks)}"
    )
    return figures


@pytest.mark.live
def test_a_short_mix_of_concurrent_operations_keeps_every_identity(live):
    plan = Plan(
        operations=300,
        threads=64,
        transfer_players=8,
        seamless_players=4,
        bursts=1,
        burst_size=70,
        snapshots=2,
        seed=7,
    )
    figures = run_stress(live, plan)
    assert figures.operations >= 300


@pytest.mark.slow
@pytest.mark.live
def test_thousands_of_concurrent_operations_keep_every_identity(live):
    plan = Plan(
        operations=2_400,
        threads=160,
        transfer_players=20,
        seamless_players=10,
        bursts=3,
        burst_size=80,
        snapshots=8,
        seed=20260101,
    )
    figures = run_stress(live, plan)
    assert figures.operations >= 2_000
