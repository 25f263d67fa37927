"""A small client for the simulator's own APIs (``/admin/api``, ``/control``) and raw ``/v4`` calls.

Paths and shapes follow ``control-api.md``.  Every non-2xx answer of ``/admin/api``
or ``/control`` raises :class:`SimClientError` carrying the ``{"error"}`` text.
"""

from __future__ import annotations

from typing import Any

import requests

#: ``demo`` (transfer mode) and ``demo_seamless``: the fixture agents and their documented tokens (13.3).
DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
SEAMLESS_TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"


class SimClientError(Exception):
    """A non-2xx answer of ``/admin/api`` or ``/control``."""

    def __init__(self, method: str, path: str, status: int, error: str) -> None:
        super().__init__(f"{method} {path} answered HTTP {status}: {error}")
        self.status = status
        self.error = error


class SimClient:
    def __init__(self, base_url: str, admin_token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if admin_token:
            self.session.headers["X-Admin-Token"] = admin_token

    # -- plumbing ------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """``/admin/api`` or ``/control`` call; the decoded JSON answer (None for 204)."""
        response = self.session.request(
            method, f"{self.base_url}{path}", json=body, params=params, timeout=self.timeout
        )
        if not 200 <= response.status_code < 300:
            try:
                error = response.json().get("error", response.text)
            except ValueError:
                error = response.text
            raise SimClientError(method, path, response.status_code, str(error))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def v4(
        self,
        path: str,
        body: Any = None,
        token: str = DEMO_TOKEN,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST ``/v4/<path>`` with an agent's token; the whole envelope (``code``, ``msg``, ``data``)."""
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        response = self.session.post(
            f"{self.base_url}/v4/{path.lstrip('/')}",
            json={} if body is None else body,
            headers=all_headers,
            timeout=self.timeout,
        )
        return response.json()

    # -- back office -----------------------------------------------------------

    def create_agent(
        self,
        name: str,
        kind: str = "agent",
        parent: str = "demo_operator",
        currency: int | None = None,
        points: Any = None,
    ) -> dict[str, Any]:
        """201 ``{name, api_token, callback_token}``; points given here come from the parent."""
        body: dict[str, Any] = {"name": name, "kind": kind, "parent": parent}
        if currency is not None:
            body["currency"] = currency
        if points is not None:
            body["points"] = points
        return self.request("POST", "/admin/api/agents", body)

    def agent(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/admin/api/agents/{name}")

    def patch_agent(self, name: str, **settings: Any) -> dict[str, Any]:
        return self.request("PATCH", f"/admin/api/agents/{name}", settings)

    def users(self, agent: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/admin/api/agents/{agent}/users")

    def transfer_points(self, from_: str, to: str, amount: Any) -> dict[str, Any]:
        return self.request("POST", "/admin/api/points/transfer", {"from": from_, "to": to, "amount": amount})

    def callbacks(self, agent: str, **filters: Any) -> list[dict[str, Any]]:
        """The agent's callback log (filters: ``command``, ``outcome``, ``limit``)."""
        return self.request("GET", f"/admin/api/agents/{agent}/callbacks", params=filters or None)

    # -- test control ----------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/control/health")

    def reset(self, seed: int | None = None, fixtures: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if seed is not None:
            body["seed"] = seed
        if fixtures is not None:
            body["fixtures"] = fixtures
        return self.request("POST", "/control/reset", body)

    def clock(self, advance: float | None = None, freeze: bool | None = None, set: str | None = None) -> dict:
        """Without arguments: ``{now, frozen}``; else moves the clock and answers the new state."""
        body = {k: v for k, v in {"advance": advance, "freeze": freeze, "set": set}.items() if v is not None}
        if not body:
            return self.request("GET", "/control/clock")
        return self.request("POST", "/control/clock", body)

    def maintenance(self, scope: str, on: bool = True) -> Any:
        return self.request("POST", "/control/maintenance", {"scope": scope, "on": on})

    def add_fault(self, **rule: Any) -> int:
        """Adds a fault rule (``target``, ``effect``, optional ``agent``, ``times``...); its id."""
        return self.request("POST", "/control/faults", rule)["id"]

    def faults(self) -> list[dict[str, Any]]:
        return self.request("GET", "/control/faults")

    def clear_faults(self) -> None:
        self.request("DELETE", "/control/faults")

    def force_outcomes(self, agent: str, account: str, multipliers: list[Any]) -> Any:
        """The account's next rounds settle with these multipliers of the stake (0 = loss)."""
        body = {"agent": agent, "account": account, "next": [{"multiplier": m} for m in multipliers]}
        return self.request("POST", "/control/outcomes", body)

    def play(
        self,
        agent: str,
        user_code: int,
        provider_id: int = 1,
        game_code: str = "vs20fruitsw",
        bet: Any = 100,
        rounds: int = 1,
    ) -> list[dict[str, Any]]:
        """Plays rounds through the game engine: ``[{round_id, bet, win, balance, status}]``."""
        body = {
            "agent": agent,
            "user_code": user_code,
            "provider_id": provider_id,
            "game_code": game_code,
            "bet": bet,
            "rounds": rounds,
        }
        return self.request("POST", "/control/play", body)

    def play_launch(self, game_url: str, bet: Any = 100, rounds: int = 1) -> list[dict[str, Any]]:
        """Opens a one-time ``game_url`` (from your code's ``game/game-url``) as the player would, and
        plays rounds there: ``[{round_id, bet, win, balance, status}]``."""
        return self.request("POST", "/control/play", {"game_url": game_url, "bet": bet, "rounds": rounds})

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """Recent ``/v4`` requests; filters as in the README: ``agent``, ``path``, ``code``
        (``"1018,1"``), ``errors``, ``since``, ``until``, ``client_ip``, ``min_duration_ms``,
        ``order``, ``limit``."""
        return self.request("GET", "/control/journal", params=filters or None)

    def clear_journal(self) -> None:
        self.request("DELETE", "/control/journal")

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON (``GET /control/snapshot``); give it to :meth:`restore` later."""
        return self.request("GET", "/control/snapshot")

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole state with a snapshot; answers what was restored."""
        return self.request("POST", "/control/restore", snapshot)
