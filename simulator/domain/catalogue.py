"""The game catalogue: providers and games, with locale names and maintenance.

Game codes are unique only within a provider, so games are keyed by
``(provider_id, game_code)``.  Maintenance (spec 11.3) is runtime state set
through ``/control/maintenance``; it overrides a provider's or game's status.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

#: ``category`` string -> ``online-games.category`` integer (spec 11.4).
CATEGORY_CODES = {"Slots": 1, "Live": 2}
STATUS_NORMAL = 1
STATUS_MAINTENANCE = 2
ENGLISH = 1


def category_code(category: str) -> int:
    return CATEGORY_CODES.get(category, 3)


@dataclass
class Provider:
    provider_id: int
    provider_name: str
    locale_names: dict[int, str] = field(default_factory=dict)
    status: int = STATUS_NORMAL
    #: Currency codes the provider supports; empty = every currency (spec 11.2).
    currencies: list[int] = field(default_factory=list)
    free_rounds: bool = True

    def locale_name(self, lang: int) -> str:
        return self.locale_names.get(lang) or self.locale_names.get(ENGLISH) or self.provider_name

    def supports_currency(self, currency: int) -> bool:
        return not self.currencies or currency in self.currencies


@dataclass
class Game:
    provider_id: int
    game_code: str
    game_name: str
    category: str
    reg_date: str
    locale_names: dict[int, str] = field(default_factory=dict)
    launch_enable: bool = True
    status: int = STATUS_NORMAL
    #: True for titles the simulator made up (the real catalogue has no Live games).
    simulated: bool = False

    def locale_name(self, lang: int) -> str:
        return self.locale_names.get(lang) or self.locale_names.get(ENGLISH) or self.game_name


class Catalogue:
    def __init__(self, providers: list[Provider], games: list[Game]) -> None:
        self.providers: dict[int, Provider] = {p.provider_id: p for p in providers}
        self.games: dict[tuple[int, str], Game] = {(g.provider_id, g.game_code): g for g in games}
        self._games_by_provider: dict[int, list[Game]] = {pid: [] for pid in self.providers}
        for game in games:
            self._games_by_provider.setdefault(game.provider_id, []).append(game)
        self._lock = threading.Lock()
        self.platform_maintenance = False
        #: Set by a simulator on Redis: maintenance changes go through it to every worker.
        self.shared: Any = None
        self._provider_maintenance: set[int] = set()
        self._game_maintenance: set[tuple[int, str]] = set()

    # -- lookup ------------------------------------------------------------
    def provider(self, provider_id: int) -> Provider | None:
        return self.providers.get(provider_id)

    def game(self, provider_id: int, game_code: str) -> Game | None:
        return self.games.get((provider_id, game_code))

    def games_of(self, provider_id: int) -> list[Game]:
        return self._games_by_provider.get(provider_id, [])

    def assigned_providers(self, assigned: list[int]) -> list[Provider]:
        """Providers assigned to an agent, by id; an empty assignment means all."""
        if not assigned:
            return sorted(self.providers.values(), key=lambda p: p.provider_id)
        return [self.providers[pid] for pid in sorted(set(assigned)) if pid in self.providers]

    # -- maintenance -------------------------------------------------------
    def provider_status(self, provider: Provider) -> int:
        if provider.provider_id in self._provider_maintenance:
            return STATUS_MAINTENANCE
        return provider.status

    def game_status(self, game: Game) -> int:
        if (game.provider_id, game.game_code) in self._game_maintenance:
            return STATUS_MAINTENANCE
        return game.status

    def set_maintenance(self, scope: str, on: bool) -> None:
        """Apply ``platform``, ``provider:<id>`` or ``game:<provider_id>:<game_code>``.

        Raises ``ValueError`` with a message for a malformed or unknown scope.  With
        the Redis store every worker's catalogue follows (``shared``).
        """
        if self.shared is not None:
            self.shared.set(scope, on)
        else:
            self.apply_maintenance(scope, on)

    def install_maintenance(self, state: dict) -> None:
        """Replace the maintenance flags with a :meth:`maintenance_state` (another worker's)."""
        with self._lock:
            self.platform_maintenance = bool(state["platform"])
            self._provider_maintenance = {int(p) for p in state["providers"]}
            self._game_maintenance = {
                (int(pid), code) for pid, _, code in (g.partition(":") for g in state["games"])
            }

    def apply_maintenance(self, scope: str, on: bool) -> None:
        """:meth:`set_maintenance` on this catalogue alone."""
        kind, _, rest = scope.partition(":")
        with self._lock:
            if kind == "platform" and not rest:
                self.platform_maintenance = on
            elif kind == "provider" and rest:
                provider_id = _parse_id(rest, scope)
                if provider_id not in self.providers:
                    raise ValueError(f"unknown provider {provider_id} in scope {scope!r}")
                _toggle(self._provider_maintenance, provider_id, on)
            elif kind == "game" and ":" in rest:
                pid_text, _, game_code = rest.partition(":")
                key = (_parse_id(pid_text, scope), game_code)
                if key not in self.games:
                    raise ValueError(f"unknown game {key[0]}:{game_code} in scope {scope!r}")
                _toggle(self._game_maintenance, key, on)
            else:
                raise ValueError(
                    f"scope {scope!r} must be 'platform', 'provider:<id>' or 'game:<provider_id>:<game_code>'"
                )

    def clear_maintenance(self) -> None:
        with self._lock:
            self.platform_maintenance = False
            self._provider_maintenance.clear()
            self._game_maintenance.clear()

    def maintenance_state(self) -> dict[str, object]:
        return {
            "platform": self.platform_maintenance,
            "providers": sorted(self._provider_maintenance),
            "games": [f"{pid}:{code}" for pid, code in sorted(self._game_maintenance)],
        }


def _parse_id(text: str, scope: str) -> int:
    if not text.isdigit():
        raise ValueError(f"provider id in scope {scope!r} must be an integer")
    return int(text)


def _toggle(target: set, key: object, on: bool) -> None:
    if on:
        target.add(key)
    else:
        target.discard(key)
