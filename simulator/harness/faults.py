"""Fault rules (control-api.md, "Fault rules"): provoke failure paths on purpose.

A rule names a target (``api``, ``api:<path>`` or ``callback:<command>``), an
effect, and optionally an agent, ``times``, ``after`` and ``probability``.  The
probability draw uses an RNG per rule, seeded with the simulator's seed and the
rule's id, so a run with faults is reproducible: which of a rule's calls fire
does not depend on calls other rules saw (another agent's traffic, a callback
retry in the background).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..codes import ResultCode

API_EFFECTS = {"latency_ms", "code", "drop"}
#: The callbacks the platform sends (spec 6.2-6.5); a rule for another name could never fire.
CALLBACK_COMMANDS = ("authenticate", "balance", "bet", "win", "cancel", "status")
CALLBACK_EFFECTS = {"delay_ms", "duplicate", "skip", "cancel_after_ok"}
#: ``round:settle`` (a simulator extension): fail a round between bet and settlement,
#: so the automatic BetCancel refund can be tested.
ROUND_TARGETS = {"round:settle"}
ROUND_EFFECTS = {"fail"}
MAX_LATENCY_MS = 600_000


class FaultError(ValueError):
    """A rule that cannot be accepted; the message says which part is wrong."""


@dataclass
class FaultRule:
    fault_id: int
    target: str
    effect: dict[str, Any]
    agent: str | None = None
    times: int | None = None
    after: int = 0
    probability: float = 1.0
    matched: int = 0
    fired: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: This rule's probability draws; :class:`FaultBook` seeds it (see the module docstring).
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False, compare=False)

    @property
    def expired(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def covers(self, agent: str | None, target: str) -> bool:
        if self.agent is not None and (agent is None or agent.lower() != self.agent.lower()):
            return False
        if self.target == "api":
            return target.startswith("api:")
        return self.target == target

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.fault_id,
            "agent": self.agent,
            "target": self.target,
            "effect": self.effect,
            "times": self.times,
            "after": self.after,
            "probability": self.probability,
            "matched": self.matched,
            "fired": self.fired,
        }


def _int(rule: dict[str, Any], key: str, default: int | None, low: int) -> int | None:
    value = rule.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FaultError(f"'{key}' must be an integer >= {low}")
    return value


def _check_target_exists(target: str, api_paths: Collection[str] | None) -> None:
    """A rule for an unknown path or callback would silently never fire: refuse it, naming the target.

    ``api_paths``: the ``/v4`` endpoint paths (``user/info``); the control API passes the
    registry's.  The book sits below the API package, so it cannot know them itself; without
    them only the target's form is checked.
    """
    if target.startswith("callback:"):
        command = target[len("callback:") :]
        if command not in CALLBACK_COMMANDS:
            raise FaultError(
                f"'target': there is no callback {command!r} (one of {', '.join(CALLBACK_COMMANDS)})"
            )
    elif target.startswith("api:") and api_paths is not None:
        path = target[len("api:/v4/") :]
        if path not in api_paths:
            raise FaultError(f"'target': there is no endpoint /v4/{path}")


def _check_effect(target: str, effect: Any) -> dict[str, Any]:
    if not isinstance(effect, dict) or len(effect) != 1:
        raise FaultError("'effect' must be an object with exactly one effect, e.g. {\"latency_ms\": 500}")
    ((name, value),) = effect.items()
    if target in ROUND_TARGETS:
        if name not in ROUND_EFFECTS or value is not True:
            raise FaultError("the only effect on 'round:settle' is {\"fail\": true}")
        return {name: value}
    if target.startswith("callback:"):
        if name not in CALLBACK_EFFECTS:
            raise FaultError(
                f"effect {name!r} is not a callback effect ({', '.join(sorted(CALLBACK_EFFECTS))})"
            )
        if name == "delay_ms":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LATENCY_MS:
                raise FaultError(f"'delay_ms' must be an integer from 0 to {MAX_LATENCY_MS}")
        elif value is not True:
            raise FaultError(f"'{name}' must be true")
        if name == "cancel_after_ok" and target != "callback:bet":
            raise FaultError("'cancel_after_ok' applies to 'callback:bet' only")
        return {name: value}
    if name not in API_EFFECTS:
        raise FaultError(f"effect {name!r} is not an api effect ({', '.join(sorted(API_EFFECTS))})")
    if name == "latency_ms":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LATENCY_MS:
            raise FaultError(f"'latency_ms' must be an integer from 0 to {MAX_LATENCY_MS}")
    elif name == "code":
        # 1018.0 == 1018 in Python, so the type is checked too: the rule shows what fires.
        valid = {c.value for c in ResultCode if c != ResultCode.OK}
        if isinstance(value, bool) or not isinstance(value, int) or value not in valid:
            raise FaultError("'code' must be a non-zero result code of the spec, e.g. 1018")
    elif value is not True:
        raise FaultError("'drop' must be true")
    return {name: value}


class FaultBook:
    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._rules: dict[int, FaultRule] = {}
        self._ids = itertools.count(1)
        self._seed = seed

    def add(self, rule: Any, api_paths: Collection[str] | None = None) -> FaultRule:
        """Validate ``rule`` (a JSON object, control-api.md) and keep it; ``api_paths``: see
        :func:`_check_target_exists`."""
        if not isinstance(rule, dict):
            raise FaultError("a fault rule must be a JSON object")
        target = rule.get("target")
        if not isinstance(target, str) or not (
            target == "api"
            or (target.startswith("api:/v4/") and len(target) > len("api:/v4/"))
            or (target.startswith("callback:") and len(target) > len("callback:"))
            or target in ROUND_TARGETS
        ):
            raise FaultError(
                "'target' must be 'api', 'api:/v4/<path>', 'callback:<command>' or 'round:settle'"
            )
        _check_target_exists(target, api_paths)
        effect = _check_effect(target, rule.get("effect"))
        agent = rule.get("agent")
        if agent is not None and not isinstance(agent, str):
            raise FaultError("'agent' must be an agent name")
        probability = rule.get("probability", 1.0)
        number = int | float | Decimal  # the control API parses fractions as Decimal
        if isinstance(probability, bool) or not isinstance(probability, number) or not 0 < probability <= 1:
            raise FaultError("'probability' must be a number in (0, 1]")
        unknown = set(rule) - {"agent", "target", "effect", "times", "after", "probability"}
        if unknown:
            raise FaultError(f"unknown key {sorted(unknown)[0]!r} in fault rule")
        # Validated before an id is drawn, so a refused rule does not leave a gap in the ids.
        times = _int(rule, "times", None, 1)
        after = _int(rule, "after", 0, 0) or 0
        with self._lock:
            fault_id = next(self._ids)
            new = FaultRule(
                fault_id=fault_id,
                target=target,
                effect=effect,
                agent=agent,
                times=times,
                after=after,
                probability=float(probability),
                rng=random.Random(f"{self._seed}:{fault_id}"),
            )
            self._rules[new.fault_id] = new
        return new

    def fire(self, agent: str | None, target: str) -> list[dict[str, Any]]:
        """Effects of every rule that fires for this call, in rule order.

        With no rule (the usual case) the answer needs no lock: an empty dict is seen as
        empty by every thread at once, and a rule added meanwhile is for the next call.
        """
        effects: list[dict[str, Any]] = []
        if not self._rules:
            return effects
        with self._lock:
            for rule in list(self._rules.values()):
                if not rule.covers(agent, target):
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                effects.append(rule.effect)
                if rule.expired:
                    del self._rules[rule.fault_id]
        return effects

    def active(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules.values())

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            return self._rules.pop(fault_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    # -- snapshots ---------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The active rules with their counters and draw positions, as JSON values."""
        with self._lock:
            next_id = next(self._ids)
            self._ids = itertools.count(next_id)
            rules = []
            for rule in self._rules.values():
                version, internal, gauss = rule.rng.getstate()
                rules.append({**rule.to_dict(), "rng": [version, list(internal), gauss]})
        return {"next_id": next_id, "rules": rules}

    def parse_state(self, state: Any) -> tuple[int, dict[int, FaultRule]]:
        """``(next_id, rules)`` of an exported state, checked; ``FaultError`` names the first problem.

        Changes nothing: :meth:`install_state` puts the result in place.
        """
        if not isinstance(state, dict) or not isinstance(state.get("rules"), list):
            raise FaultError("faults: must be {next_id, rules: [...]}")
        next_id = state.get("next_id")
        if isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 1:
            raise FaultError("faults.next_id: must be an integer >= 1")
        scratch = FaultBook(self._seed)
        rules: dict[int, FaultRule] = {}
        for number, raw in enumerate(state["rules"]):
            where = f"faults.rules[{number}]"
            if not isinstance(raw, dict):
                raise FaultError(f"{where}: must be an object")
            spec = {
                k: raw[k] for k in ("agent", "target", "effect", "times", "after", "probability") if k in raw
            }
            try:
                rule = scratch.add(spec)
                rule.rng.setstate((raw["rng"][0], tuple(raw["rng"][1]), raw["rng"][2]))
            except (FaultError, KeyError, TypeError, ValueError, IndexError) as exc:
                raise FaultError(f"{where}: {exc}") from None
            fault_id, matched, fired = raw.get("id"), raw.get("matched", 0), raw.get("fired", 0)
            for key, value in (("id", fault_id), ("matched", matched), ("fired", fired)):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise FaultError(f"{where}.{key}: must be an integer >= 0")
            if fault_id >= next_id or fault_id in rules:
                raise FaultError(f"{where}.id: {fault_id} repeats or is not below next_id")
            rule.fault_id, rule.matched, rule.fired = fault_id, matched, fired
            rules[fault_id] = rule
        return next_id, rules

    def share(self) -> None:
        """Make these rules every worker's (a reset's fresh book); one process has no other."""

    def install_state(self, parsed: tuple[int, dict[int, FaultRule]]) -> None:
        """Replace the rules with those of :meth:`parse_state`."""
        next_id, rules = parsed
        with self._lock:
            self._rules = dict(sorted(rules.items()))
            self._ids = itertools.count(next_id)
