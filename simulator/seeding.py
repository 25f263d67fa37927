"""``python -m simulator seed``: write a fixture set of your own (``catalogue.json`` + ``agents.json``).

The set starts from a base set (the bundled default unless ``--from``) and adds
transfer and seamless agents under one operator, with generated names and API
tokens and players planned the way the loader plans them (``test1234`` first,
then Faker names from the simulator's seed).  Everything drawn here comes from
``--seed``, so the same arguments write byte-identical files.  The result is
loaded with the simulator's own loader before success is reported, so a set
this command wrote always starts.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cli_options import HelpFormatter, default_seed
from .config import Settings, default_fixtures_dir
from .domain.enums import AgentKind, WalletMode
from .fixtures import FixtureError, read_fixture
from .runtime import Simulator

DEFAULT_CALLBACK_URL = "http://127.0.0.1:8090/callback"
#: Settings of a new agent: those of ``demo`` (fixtures/default/agents.json).
AGENT_SETTINGS = {"rtp": 95, "min_bet": 100, "max_bet": 100000, "call_min": 1000}
MAX_AGENTS = 1000
MAX_PLAYERS = 10_000
_NOT_NAME = re.compile(r"[^a-z0-9]+")

SEED_EXAMPLES = """\
Writes DIR/catalogue.json (copied from the base set) and DIR/agents.json (the
base tree plus the new agents), loads the result with the simulator's loader,
and prints the new agents with their API tokens. New agents get the settings
of `demo` (RTP 95, bets 100-100000) and the first player `test1234`, then
--players generated ones; their points come from the operator, whose own
points (and its parents') are raised so it keeps what it had. A --currency
other than the operator's puts the new agents under a new broker and operator
in that currency. The base set's agents and players (names, user codes,
balances) stay exactly as they were. The same options and --seed write
byte-identical files.

examples:
  python -m simulator seed --out my-world
  python -m simulator seed --out my-world --agents 5 --seamless-agents 2 --players 50 --seed 7
  python -m simulator seed --out my-world --seamless-agents 1 --agents 0 \\
      --callback-url http://127.0.0.1:9000/wallet --callback-token my-secret
  python -m simulator seed --out usd-world --currency USD --points 500000 --deposit-max 50000
  python -m simulator seed --out my-world --force --from my-world --agents 1 --seamless-agents 0
  SCORPIO_SIM_FIXTURES=my-world make run      # then serve it, or switch a running simulator:
  curl -s -X POST http://127.0.0.1:8080/control/reset -d '{"fixtures":"'$PWD'/my-world"}'
"""


class SeedError(ValueError):
    """The set cannot be made as asked; the message names the option or file."""


@dataclass(frozen=True)
class NewAgent:
    name: str
    mode: WalletMode
    api_token: str
    points: int


@dataclass(frozen=True)
class Plan:
    """What :func:`build` made: the new ``agents.json`` and what it adds, for the summary."""

    agents_json: bytes
    new_agents: list[NewAgent]
    parent: str
    currency: int
    callback_token: str


def _count(limit: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not 0 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be from 0 to {limit}, got {value}")
        return value

    return parse


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text


def register(commands: Any) -> None:
    """Adds ``seed`` to the subcommands of ``python -m simulator``."""
    seed = commands.add_parser(
        "seed",
        help="write a fixture set of your own (agents, tokens, players)",
        description="Write a fixture set: a base set plus generated agents and players.",
        epilog=SEED_EXAMPLES,
        formatter_class=HelpFormatter,
    )
    seed.add_argument("--out", required=True, metavar="DIR", help="directory to write (created if missing)")
    seed.add_argument(
        "--force", action="store_true", help="overwrite catalogue.json and agents.json of a non-empty DIR"
    )
    seed.add_argument(
        "--from", dest="base", metavar="DIR", help="base fixture set (default: the bundled default set)"
    )
    seed.add_argument("--agents", metavar="N", type=_count(MAX_AGENTS), default=2, help="new transfer agents")
    seed.add_argument(
        "--seamless-agents",
        metavar="N",
        type=_count(MAX_AGENTS),
        default=1,
        help="new seamless agents",
    )
    seed.add_argument(
        "--operator",
        metavar="NAME",
        help="operator of the new agents (default: the base set's first operator)",
    )
    seed.add_argument(
        "--players",
        metavar="N",
        type=_count(MAX_PLAYERS),
        default=10,
        help="generated players per new agent, after test1234",
    )
    seed.add_argument(
        "--points",
        metavar="N",
        type=_count(10**12),
        default=1_000_000,
        help="points of each new agent",
    )
    seed.add_argument(
        "--deposit-min",
        metavar="AMOUNT",
        type=_count(10**12),
        default=1000,
        help="lowest opening deposit of transfer players, in whole hundreds",
    )
    seed.add_argument(
        "--deposit-max",
        metavar="AMOUNT",
        type=_count(10**12),
        default=200_000,
        help="highest opening deposit; below 100 = none",
    )
    seed.add_argument(
        "--currency",
        metavar="CODE",
        help="currency code or name of the new agents, e.g. 2 or USD (default: the operator's)",
    )
    seed.add_argument(
        "--callback-url",
        metavar="URL",
        type=_url,
        default=DEFAULT_CALLBACK_URL,
        help="callback URL of the new seamless agents",
    )
    seed.add_argument(
        "--callback-token",
        metavar="TOKEN",
        help="Callback-Token of the new seamless agents (default: one generated UUID)",
    )
    seed.add_argument("--callback-dialect", choices=("v4", "legacy"), default="v4", help="callback dialect")
    seed.add_argument(
        "--seed",
        metavar="N",
        type=int,
        default=default_seed(),
        help="seed of names and tokens, and of the check load (default: $SCORPIO_SIM_SEED or %(default)s)",
    )
    seed.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``seed`` command: 0 when the set was written and loads, 1 when it could not be, 2 for usage."""
    out = Path(args.out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        print(f"seed: --out {out} is a file, not a directory", file=sys.stderr)
        return 2
    if out.is_dir() and any(out.iterdir()) and not args.force:
        print(f"seed: --out {out} is not empty; add --force to overwrite its fixture files", file=sys.stderr)
        return 2
    base = Path(args.base).expanduser().resolve() if args.base else default_fixtures_dir()
    missing = [name for name in ("catalogue.json", "agents.json") if not (base / name).is_file()]
    if missing:
        print(
            f"seed: --from: {base} is not a fixture set, it has no {' and no '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    try:
        plan = build(args, base)
        counts = check_and_write(base, plan.agents_json, out, args.seed)
    except (SeedError, FixtureError) as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"seed: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(summary(out, plan, counts, args))
    return 0


def build(args: argparse.Namespace, base: Path) -> Plan:
    """The base set's ``agents.json`` with the new agents, their players and the points they take."""
    if args.deposit_min > args.deposit_max:
        raise SeedError("--deposit-min must not be above --deposit-max")
    data = copy.deepcopy(read_fixture(base, "agents.json"))  # the loader caches the parsed file
    agents: list[dict[str, Any]] = data.setdefault("agents", [])
    players: dict[str, Any] = data.setdefault("players", {})
    by_name = {item["name"].lower(): item for item in agents}
    operator = _operator(args.operator, agents, by_name)
    currency = _currency(args.currency, _currency_of(operator, by_name))
    rng = random.Random(args.seed)
    taken = set(by_name) | {key.lower() for key in players}
    tokens = {item.get("api_token") for item in agents}
    names = _agent_names(args.agents + args.seamless_agents, args.seed, taken, max(players, default=""))
    generated_token = _token(rng, tokens)  # drawn either way, so --callback-token leaves the API tokens alone
    callback_token = args.callback_token or generated_token
    parent = operator["name"]
    if currency != _currency_of(operator, by_name):
        alpha = Settings.from_env().currencies[currency][0].lower()
        broker, parent = _unique(f"seed_broker_{alpha}", taken), _unique(f"seed_operator_{alpha}", taken)
    new_agents: list[NewAgent] = []
    entries: list[dict[str, Any]] = []
    need = 0
    for index, name in enumerate(names):
        seamless = index >= args.agents
        if seamless:
            name = _unique(f"{name[:41]}_seamless", taken)
        entry = _agent_entry(args, name, parent, _token(rng, tokens), callback_token if seamless else None)
        players[name], most = _player_spec(args, seamless)
        need += args.points + most
        entries.append(entry)
        new_agents.append(
            NewAgent(
                name,
                WalletMode.SEAMLESS if seamless else WalletMode.TRANSFER,
                entry["api_token"],
                args.points,
            )
        )
    if parent != operator["name"]:
        reserve = 10 * args.points
        agents.append(
            {"name": broker, "kind": AgentKind.BROKER, "currency": currency, "points": need + 2 * reserve}
        )
        agents.append(
            {"name": parent, "kind": AgentKind.OPERATOR, "parent": broker, "points": need + reserve}
        )
    else:
        _raise_points(operator, by_name, need)
    agents.extend(entries)
    data["_seeded"] = (
        f"python -m simulator seed --seed {args.seed}: {args.agents} transfer and "
        f"{args.seamless_agents} seamless agents under {parent}, currency {currency}"
    )
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return Plan(text.encode("utf-8"), new_agents, parent, currency, callback_token)


def _agent_entry(
    args: argparse.Namespace, name: str, parent: str, api_token: str, callback_token: str | None
) -> dict[str, Any]:
    """An ``agents.json`` entry; with a callback token, a seamless agent."""
    settings: dict[str, Any] = dict(AGENT_SETTINGS)
    if callback_token is not None:
        settings.update(
            callback_url=args.callback_url,
            callback_token=callback_token,
            callback_dialect=args.callback_dialect,
        )
    return {
        "name": name,
        "kind": AgentKind.AGENT,
        "parent": parent,
        "points": args.points,
        "api_token": api_token,
        "settings": settings,
    }


def _player_spec(args: argparse.Namespace, seamless: bool) -> tuple[dict[str, Any], int]:
    """The agent's ``players`` entry and the most its opening deposits can add up to.

    The loader deposits whole hundreds in ``[deposit_min, deposit_max]`` to
    transfer players only; seamless balances live in the partner's wallet.
    """
    spec: dict[str, Any] = {"named": ["test1234"], "generated": args.players}
    if seamless or args.deposit_max < 100:
        return spec, 0
    spec.update(deposit_min=args.deposit_min, deposit_max=args.deposit_max)
    return spec, (args.players + 1) * args.deposit_max


def _operator(wanted: str | None, agents: list[dict[str, Any]], by_name: dict[str, dict]) -> dict[str, Any]:
    if wanted is None:
        operator = next((item for item in agents if item.get("kind") == AgentKind.OPERATOR), None)
        if operator is None:
            raise SeedError("the base set has no operator; name a parent with --operator")
        return operator
    operator = by_name.get(wanted.lower())
    if operator is None or operator.get("kind") != AgentKind.OPERATOR:
        raise SeedError(f"--operator: the base set has no operator {wanted!r}")
    return operator


def _currency_of(item: dict[str, Any], by_name: dict[str, dict]) -> int:
    """The agent's currency as the loader sets it: its own, else its parent's (2 for a root without one)."""
    while "currency" not in item and item.get("parent"):
        item = by_name[item["parent"].lower()]
    return int(item.get("currency", 2))


def _currency(wanted: str | None, default: int) -> int:
    if wanted is None:
        return default
    try:
        table = Settings.from_env().currencies
    except ValueError as exc:
        raise SeedError(str(exc)) from None
    for code, (alpha, _) in table.items():
        if wanted.strip() in (str(code), alpha) or wanted.strip().upper() == alpha:
            return code
    known = ", ".join(f"{code} {alpha}" for code, (alpha, _) in sorted(table.items()))
    raise SeedError(f"--currency: {wanted!r} is not in the currency table ({known})")


def _raise_points(item: dict[str, Any], by_name: dict[str, dict], amount: int) -> None:
    """The new agents take ``amount`` at most from ``item``: it and its parents get that much more."""
    while True:
        item["points"] = int(item.get("points", 0)) + amount
        if not item.get("parent"):
            return
        item = by_name[item["parent"].lower()]


def _agent_names(count: int, seed: int, taken: set[str], last: str) -> list[str]:
    """``count`` distinct agent names from Faker company names (``smith_and_sons``), sorting after ``last``.

    The loader plans players in the sorted order of their agents' names (user
    codes, Faker seeds, deposits), so new names sorting after every base name
    leave the base set's players exactly as they were.
    """
    from faker import Faker  # imported here: slow to import, only this command needs it

    if len(last) > 40:
        raise SeedError(f"the base set's agent name {last!r} is too long to sort new names after it")
    faker = Faker("en_US")
    faker.seed_instance(seed)
    names: list[str] = []
    misses = 0
    while len(names) < count:
        name = _NOT_NAME.sub("_", faker.company().lower()).strip("_")[:40].rstrip("_")
        if name <= last:
            misses += 1
            if misses < 100:
                continue
            name = f"{last}_{name}"[:41].rstrip("_")
        misses = 0
        if len(name) >= 2 and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate.lower() in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate.lower())
    return candidate


def _token(rng: random.Random, taken: set[Any]) -> str:
    while True:
        token = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if token not in taken:
            taken.add(token)
            return token


def check_and_write(base: Path, agents_json: bytes, out: Path, seed: int) -> dict[str, int]:
    """Loads the set from a scratch directory first; only a set that loads reaches ``out``.

    Answers ``{agent name: players}`` as the loader made them.
    """
    catalogue = (base / "catalogue.json").read_bytes()
    with tempfile.TemporaryDirectory(prefix="scorpio-seed-") as scratch:
        trial = Path(scratch)
        (trial / "catalogue.json").write_bytes(catalogue)
        (trial / "agents.json").write_bytes(agents_json)
        try:
            sim = Simulator(Settings(fixtures=str(trial), seed=seed))
        except FixtureError:
            raise
        except Exception as exc:
            raise SeedError(f"the new set does not load: {exc}") from exc
        try:
            world = sim.world
            if not world.ledger.audit().conserved:
                raise SeedError("the new set does not load: points and balances do not add up")
            counts = {
                agent.name: len(world.store.users_of(agent.agent_id)) for agent in world.store.all_agents()
            }
        finally:
            sim.retries.stop()
        out.mkdir(parents=True, exist_ok=True)
        for name in ("catalogue.json", "agents.json"):
            shutil.copyfile(trial / name, out / name)
    return counts


def summary(out: Path, plan: Plan, counts: dict[str, int], args: argparse.Namespace) -> str:
    lines = [
        f"Wrote {out}/catalogue.json and agents.json (seed {args.seed}); the set loads: "
        f"{len(counts)} agents, {sum(counts.values())} players.",
    ]
    if plan.new_agents:
        width = max(len(agent.name) for agent in plan.new_agents)
        lines += ["", f"New agents under {plan.parent} (currency {plan.currency}):"]
        lines += [
            f"  {agent.name:<{width}}  {agent.mode:<8}  points {agent.points:<10}  "
            f"players {counts.get(agent.name, 0):<5}  api_token {agent.api_token}"
            for agent in plan.new_agents
        ]
    if any(agent.mode == WalletMode.SEAMLESS for agent in plan.new_agents):
        lines.append(f"Seamless agents call {args.callback_url} with Callback-Token {plan.callback_token}")
    lines += [
        "",
        "Players: test1234, then names Faker makes from the simulator's seed (SCORPIO_SIM_SEED).",
        "Use it:",
        f"  SCORPIO_SIM_FIXTURES={out} make run",
        f'  curl -s -X POST http://127.0.0.1:8080/control/reset -d \'{{"fixtures":"{out}"}}\'',
        "",
    ]
    return "\n".join(lines)
