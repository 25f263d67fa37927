"""Fault rules (control-api.md, "Fault rules"): provoke failure paths on purpose.

A rule names a target (``api``, ``api:<path>`` or ``callback:<command>``), an
effect, and optionally an agent, ``times``, ``after`` and ``probability``.  The
probability draw uses a seeded RNG so a run with faults is reproducible.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..codes import ResultCode

API_EFFECTS = {"latency_ms", "code", "drop"}
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
        self._rng = random.Random(seed)

    def add(self, rule: Any) -> FaultRule:
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
            new = FaultRule(
                fault_id=next(self._ids),
                target=target,
                effect=effect,
                agent=agent,
                times=times,
                after=after,
                probability=float(probability),
            )
            self._rules[new.fault_id] = new
        return new

    def fire(self, agent: str | None, target: str) -> list[dict[str, Any]]:
        """Effects of every rule that fires for this call, in rule order."""
        effects: list[dict[str, Any]] = []
        with self._lock:
            for rule in list(self._rules.values()):
                if not rule.covers(agent, target):
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
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
