"""Players of an agent: ``user/create`` and the ``user_code`` rules (spec 1.3, 5.4, 5.5).

A user belongs to one agent *and one wallet mode*: after the agent switches
mode, users made under the old mode are not found (2002), and ``user/create``
with the same name makes a new ``user_code``.  Names match case-insensitively;
the first spelling is stored (OP-14).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..clock import Clock
from ..codes import ResultCode, SimError
from ..money import ZERO
from .enums import WalletMode
from .models import Agent, User
from .store import Seq, Store

#: ``authenticate(agent, account) -> balance`` reported by the integrator's wallet;
#: raises ``SimError(CALLBACK_ERROR)`` when the callback fails in any way.
Authenticator = Callable[[Agent, str], Decimal]


class Users:
    def __init__(self, store: Store, clock: Clock, authenticate: Authenticator) -> None:
        self._store = store
        self._clock = clock
        self._authenticate = authenticate

    def create_or_get(self, agent: Agent, name: str) -> tuple[User, bool]:
        """Return ``(user, is_new_user)``.

        In seamless mode the ``authenticate`` callback runs first, outside any
        lock; if it fails nothing is created and the caller gets 1015.
        """
        reported: Decimal | None = None
        if agent.mode == WalletMode.SEAMLESS:
            # ``account`` carries the stored spelling of an existing user (OP-14).
            existing = self._store.user_by_name(agent.agent_id, WalletMode.SEAMLESS, name)
            reported = self._authenticate(agent, existing.name if existing else name)
        return self._create(agent, name, reported)

    def create_fixture_user(self, agent: Agent, name: str) -> tuple[User, bool]:
        """Create a fixture player without calling the wallet (fixtures run before any wallet)."""
        return self._create(agent, name, None)

    def _create(self, agent: Agent, name: str, reported: Decimal | None) -> tuple[User, bool]:
        store = self._store
        user = store.user_by_name(agent.agent_id, agent.mode, name)
        is_new = False
        if user is None:
            fresh = User(
                user_code=store.next_id(Seq.USER),
                agent_id=agent.agent_id,
                name=name,
                mode=agent.mode,
                balance=ZERO,
                created_at=self._clock.now(),
                last_balance=reported if reported is not None else ZERO,
            )
            user, is_new = store.add_user(fresh)
            if is_new:
                return user, True
        if reported is not None:
            store.set_last_balance(user.user_code, reported)
        return store.user(user.user_code) or user, is_new

    def lookup(self, agent: Agent, user_code: int) -> User:
        """The agent's user in its current mode: 2002 if unknown, 1010 if another agent's."""
        return check_owner(agent, user_code, self._store.user(user_code))

    def displayed_balance(self, user: User) -> Decimal:
        """Transfer mode: the platform balance; seamless: the last reported one (spec 5.5)."""
        return user.last_balance if user.mode == WalletMode.SEAMLESS else user.balance


def check_owner(agent: Agent, user_code: int, user: User | None) -> User:
    """``user`` (the record of ``user_code``) if it is the agent's in its current mode, else the
    spec's error: 2002 unknown, 1010 another agent's, 2002 created in the other wallet mode."""
    if user is None:
        raise SimError(ResultCode.USER_NOT_FOUND, f"no user with user_code {user_code}")
    if user.agent_id != agent.agent_id:
        raise SimError(ResultCode.PERMISSION_ERROR, f"user_code {user_code} belongs to another agent")
    if user.mode != agent.mode:
        raise SimError(
            ResultCode.USER_NOT_FOUND,
            f"user_code {user_code} was created in {user.mode} mode; the agent is now in {agent.mode} mode",
        )
    return user
