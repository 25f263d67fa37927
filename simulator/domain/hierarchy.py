"""The broker -> operator -> agent tree, tokens, settings and point grants (spec 1.1-1.2).

The v4 API cannot touch the tree; only the back office (``/admin/api``) and the
fixtures call these functions.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import fields
from decimal import Decimal
from typing import Any

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO
from .enums import AgentKind, PointKind
from .ledger import Ledger
from .models import Agent, AgentSettings
from .store import Seq, Store

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{2,50}$")
#: Which kinds may sit directly under which (None = root of the tree).
ALLOWED_PARENTS: dict[AgentKind, tuple[AgentKind | None, ...]] = {
    AgentKind.BROKER: (None, AgentKind.BROKER),
    AgentKind.OPERATOR: (AgentKind.BROKER,),
    AgentKind.AGENT: (AgentKind.OPERATOR, AgentKind.AGENT),
}
SETTING_NAMES = tuple(f.name for f in fields(AgentSettings))


def new_token() -> str:
    return str(uuid.uuid4())


class Hierarchy:
    def __init__(self, store: Store, ledger: Ledger, clock: Clock) -> None:
        self._store = store
        self._ledger = ledger
        self._clock = clock
        #: Serialises creations so two requests cannot both take one name or token.
        self._create_lock = threading.Lock()

    def get(self, name: str) -> Agent:
        agent = self._store.agent_by_name(name)
        if agent is None:
            raise SimError(ResultCode.AGENT_NOT_FOUND, f"no agent named {name!r}")
        return agent

    def create(
        self,
        name: str,
        kind: str,
        parent_name: str | None = None,
        currency: int | None = None,
        points: Decimal = ZERO,
        api_token: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Agent:
        """Create an agent; ``points`` come from the parent (or are issued for a root broker)."""
        with self._create_lock:
            return self._create(name, kind, parent_name, currency, points, api_token, settings)

    def _create(
        self,
        name: str,
        kind: str,
        parent_name: str | None,
        currency: int | None,
        points: Decimal,
        api_token: str | None,
        settings: dict[str, Any] | None,
    ) -> Agent:
        if not NAME_PATTERN.fullmatch(name or ""):
            raise SimError.validation("name", "[name] must be 2-50 characters of A-Z, a-z, 0-9 and _")
        if kind not in tuple(AgentKind):
            raise SimError.validation("kind", f"[kind] must be one of {', '.join(AgentKind)}")
        if self._store.agent_by_name(name) is not None:
            raise SimError(ResultCode.PERMISSION_ERROR, f"an agent named {name!r} already exists")
        parent = self.get(parent_name) if parent_name else None
        parent_kind = parent.kind if parent else None
        if parent_kind not in ALLOWED_PARENTS[AgentKind(kind)]:
            where = f"under a {parent_kind}" if parent else "at the root"
            raise SimError.validation("parent", f"[parent] a {kind} cannot be created {where}")
        token = api_token or new_token()
        if self._store.agent_by_token(token) is not None:
            raise SimError(ResultCode.PERMISSION_ERROR, "that API token is already in use")
        agent_settings = AgentSettings(callback_token=new_token())
        if parent is not None:
            agent_settings.currency = parent.settings.currency
        if currency is not None:
            agent_settings.currency = currency
        agent = Agent(
            agent_id=self._store.next_id(Seq.AGENT),
            name=name,
            kind=AgentKind(kind),
            parent_id=parent.agent_id if parent else None,
            api_token=token,
            points=ZERO,
            settings=agent_settings,
            created_at=self._clock.now(),
        )
        if settings:
            self.apply_settings(agent, settings)
        if parent is None:
            self._store.add_agent(agent)
            if points > ZERO:
                self._ledger.issue_points(agent, points)
            return agent
        if points > ZERO:
            self._check_same_currency(parent, agent)
            if parent.points < points:  # checked again by the movement; this keeps the agent uncreated
                raise SimError(
                    ResultCode.POINT_NOT_ENOUGH,
                    f"parent {parent.name} has {parent.points} points, {points} requested",
                )
        self._store.add_agent(agent)
        if points > ZERO:
            self._ledger.move_points(parent, agent, points, PointKind.GRANT)
        return agent

    def apply_settings(self, agent: Agent, changes: dict[str, Any]) -> Agent:
        """Apply already-validated settings; unknown names are rejected."""
        unknown = sorted(set(changes) - set(SETTING_NAMES))
        if unknown:
            raise SimError.validation(unknown[0], f"unknown setting {unknown[0]!r}")
        if self._store.agent(agent.agent_id) is None:  # an agent being created
            for key, value in changes.items():
                setattr(agent.settings, key, value)
            return agent
        # The caller's copy shows the change it made, as the stored agent does.
        agent.settings = self._store.change_settings(agent.agent_id, changes)
        return agent

    def reissue_token(self, agent: Agent) -> str:
        """A new API token; the old one stops working at once (spec 3.1, step 2)."""
        token = new_token()
        self._store.replace_token(agent.agent_id, token)
        return token

    def transfer_points(self, source_name: str, target_name: str, amount: Decimal):
        """Grant (parent -> child) or recall (child -> parent) points."""
        source, target = self.get(source_name), self.get(target_name)
        if target.parent_id == source.agent_id:
            kind = PointKind.GRANT
        elif source.parent_id == target.agent_id:
            kind = PointKind.RECALL
        else:
            raise SimError(
                ResultCode.PERMISSION_ERROR,
                f"{source.name} and {target.name} are not parent and child",
            )
        self._check_same_currency(source, target)
        ptx = self._ledger.move_points(source, target, amount, kind)
        # The two agents as they stand after the move (records are values: the ones read
        # above still show the points before it).
        return ptx, self.get(source_name), self.get(target_name)

    def tree(self) -> list[dict[str, Any]]:
        def node(agent: Agent) -> dict[str, Any]:
            parent = self._store.agent(agent.parent_id) if agent.parent_id else None
            return {
                "agent": agent,
                "parent": parent.name if parent else None,
                "children": [node(c) for c in self._store.children_of(agent.agent_id)],
            }

        return [node(root) for root in self._store.children_of(None)]

    def parent_name(self, agent: Agent) -> str | None:
        parent = self._store.agent(agent.parent_id) if agent.parent_id else None
        return parent.name if parent else None

    @staticmethod
    def _check_same_currency(a: Agent, b: Agent) -> None:
        if a.settings.currency != b.settings.currency:
            raise SimError(
                ResultCode.PERMISSION_ERROR,
                f"{a.name} (currency {a.settings.currency}) and {b.name} "
                f"(currency {b.settings.currency}) work in different currencies",
            )
