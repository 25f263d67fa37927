"""Load a fixture set: the catalogue, the agent tree and the players.

A fixture set is a directory with ``catalogue.json`` and ``agents.json``
(``SCORPIO_SIM_FIXTURES`` selects one).  Players are generated with Faker from
the simulator's seed, so every start and every ``/control/reset`` with the same
seed gives the same names, ``user_code``s and balances.  Players' starting
balances are real deposits through the ledger, so the history and the
conservation invariant hold from the first request.
"""

from __future__ import annotations

import functools
import json
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from .domain.catalogue import Catalogue, Game, Provider
from .domain.enums import WalletMode
from .domain.hierarchy import Hierarchy
from .domain.ledger import Ledger
from .domain.users import Users
from .money import to_decimal

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


class FixtureError(ValueError):
    """A fixture set is missing or malformed; the message names the file and field."""


@functools.lru_cache(maxsize=8)
def _read_json(path: str, mtime: float) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc}") from exc


def read_fixture(directory: Path, name: str) -> Any:
    path = directory / name
    if not path.is_file():
        raise FixtureError(f"fixture set {directory} has no {name}")
    return _read_json(str(path), path.stat().st_mtime)


def load_catalogue(directory: Path) -> Catalogue:
    data = read_fixture(directory, "catalogue.json")
    providers = [
        Provider(
            provider_id=int(p["provider_id"]),
            provider_name=p["provider_name"],
            locale_names={int(k): v for k, v in p.get("locale_names", {}).items()},
            status=int(p.get("status", 1)),
            currencies=[int(c) for c in p.get("currencies", [])],
            free_rounds=bool(p.get("free_rounds", True)),
        )
        for p in data["providers"]
    ]
    games = [
        Game(
            provider_id=int(g["provider_id"]),
            game_code=str(g["game_code"]),
            game_name=g["game_name"],
            category=g["category"],
            reg_date=g["reg_date"],
            locale_names={int(k): v for k, v in g.get("locale_names", {}).items()},
            launch_enable=bool(g.get("launch_enable", True)),
            status=int(g.get("status", 1)),
            simulated=bool(g.get("simulated", False)),
        )
        for g in data["games"]
    ]
    return Catalogue(providers, games)


def _settings(raw: dict[str, Any]) -> dict[str, Any]:
    """Fixture settings in domain types (amounts as Decimal)."""
    amounts = {"rtp", "min_bet", "max_bet", "max_win", "call_min"}
    return {k: to_decimal(v) if k in amounts else v for k, v in raw.items()}


def plan_players(directory: Path, seed: int) -> dict[str, list[tuple[str, Decimal]]]:
    """``{agent name: [(player name, opening deposit), ...]}``, deterministic for a seed.

    Agents are planned in the file's order, so adding an agent at the end of a
    fixture set leaves every existing player's name, ``user_code`` and deposit
    as it was.
    """
    players = read_fixture(directory, "agents.json").get("players", {})
    rng = random.Random(seed)
    plan: dict[str, list[tuple[str, Decimal]]] = {}
    for index, (agent_name, spec) in enumerate(players.items()):
        if agent_name.startswith("_"):
            continue
        named = list(spec.get("named", []))
        generated = player_names(int(spec.get("generated", 0)), seed + index, set(named))
        low, high = int(spec.get("deposit_min", 0)), int(spec.get("deposit_max", 0))
        plan[agent_name] = [
            (name, Decimal(rng.randint(low // 100, high // 100) * 100) if high > 0 else Decimal(0))
            for name in named + generated
        ]
    return plan


def load_tree(directory: Path, hierarchy: Hierarchy, plan: dict[str, list[tuple[str, Decimal]]]) -> None:
    """Create the agents; an agent's ``points`` are what it holds *after* funding its players.

    So ``demo`` shows the documented 1,000,000 points on a fresh start even
    though its players start with balances: their deposits are granted on top,
    from the parent's points.
    """
    data = read_fixture(directory, "agents.json")
    funding = {name.lower(): sum((amount for _, amount in rows), Decimal(0)) for name, rows in plan.items()}
    items = data["agents"]
    for item in items:
        try:
            hierarchy.create(
                name=item["name"],
                kind=item["kind"],
                parent_name=item.get("parent"),
                currency=item.get("currency"),
                points=to_decimal(item.get("points", 0)) + funding.get(item["name"].lower(), Decimal(0)),
                api_token=item.get("api_token"),
                settings=_settings(item.get("settings", {})),
            )
        except Exception as exc:
            raise FixtureError(f"agents.json: agent {item.get('name')!r}: {exc}") from exc


def player_names(count: int, seed: int, taken: set[str]) -> list[str]:
    """``count`` distinct valid user names (2-50 of ``[A-Za-z0-9_]``) from Faker.

    Deterministic for its arguments, so the answer is remembered: every
    ``/control/reset`` (and every test of a suite that resets) rebuilds the
    same players, and a Faker instance costs tens of milliseconds to make.
    """
    if count <= 0:
        return []
    return list(_player_names(count, seed, frozenset(taken)))


@functools.lru_cache(maxsize=64)
def _player_names(count: int, seed: int, taken: frozenset[str]) -> tuple[str, ...]:
    faker = _faker()
    faker.seed_instance(seed)
    names: list[str] = []
    seen = {t.lower() for t in taken}
    while len(names) < count:
        name = _NOT_NAME.sub("_", faker.user_name())[:50]
        if len(name) >= 2 and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return tuple(names)


@functools.cache
def _faker() -> Any:
    """One English Faker, re-seeded for each list of names (made on first use: slow to import)."""
    from faker import Faker

    return Faker("en_US")


def load_players(
    plan: dict[str, list[tuple[str, Decimal]]], hierarchy: Hierarchy, users: Users, ledger: Ledger
) -> None:
    """Create fixture players directly (no ``authenticate`` callback) and fund transfer ones."""
    for agent_name, rows in plan.items():
        agent = hierarchy.get(agent_name)
        for name, amount in rows:
            user, _ = users.create_fixture_user(agent, name)
            if amount > 0 and agent.mode == WalletMode.TRANSFER:
                ledger.deposit(agent, user, amount)
