"""A tiny casino backend calling the Scorpio Play ``/v4`` API (transfer mode).

It is what an integrator would write: every call checks the envelope's
``code``, a busy platform (1018) is retried once, any other non-zero code
raises :class:`ScorpioError`.  ``test_casino.py`` tests it against the
simulator through the ``scorpio`` pytest fixture.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import requests

SERVER_IS_BUSY = 1018


class ScorpioError(Exception):
    """The platform answered a non-zero result code."""

    def __init__(self, path: str, code: int, msg: str) -> None:
        super().__init__(f"/v4/{path} failed with code {code}: {msg}")
        self.path = path
        self.code = code
        self.msg = msg


class CasinoBackend:
    def __init__(self, base_url: str, api_token: str, retry_delay: float = 0.05, timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_token}"

    def _call(self, path: str, body: dict[str, Any]) -> Any:
        for attempt in range(2):
            envelope = self.http.post(f"{self.base_url}/v4/{path}", json=body, timeout=self.timeout).json()
            if envelope["code"] == 0:
                return envelope.get("data")
            if envelope["code"] == SERVER_IS_BUSY and attempt == 0:
                time.sleep(self.retry_delay)
                continue
            raise ScorpioError(path, envelope["code"], envelope.get("msg", ""))
        raise AssertionError("unreachable")

    def register_player(self, name: str) -> int:
        """Creates (or finds) the player; their ``user_code``."""
        return self._call("user/create", {"name": name})["user_code"]

    def balance(self, user_code: int) -> Decimal:
        return Decimal(str(self._call("user/info", {"user_code": user_code})["balance"]))

    def top_up(self, user_code: int, amount: Any) -> Decimal:
        """Moves money to the player's game balance; the new balance."""
        data = self._call("wallet/deposit", {"user_code": user_code, "amount": amount})
        return Decimal(str(data["balance"]))

    def withdraw(self, user_code: int, amount: Any) -> Decimal:
        data = self._call("wallet/withdraw", {"user_code": user_code, "amount": amount})
        return Decimal(str(data["balance"]))

    def cash_out(self, user_code: int) -> Decimal:
        """Takes the whole game balance back; the amount taken."""
        return Decimal(str(self._call("wallet/withdraw-all", {"user_code": user_code})["amount"]))

    def launch(self, user_code: int, provider_id: int, game: str, lang: int = 1) -> str:
        """The URL of the game page for this player."""
        body = {"user_code": user_code, "provider_id": provider_id, "game_symbol": game, "lang": lang}
        return self._call("game/game-url", body)["game_url"]
