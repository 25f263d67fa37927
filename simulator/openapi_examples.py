"""Example values of the OpenAPI document's fields: taken from the default fixtures, so what Swagger UI
pre-fills works against a fresh ``make run`` (issue 16).

Without them Swagger UI invents values from the bounds - ``9223372036854776000`` for a ``user_code``
bounded by 2^63 - 1, ``"string"`` for a game code.  Here a ``user_code`` is ``test1234`` of the agent
``demo`` (the first fixture player, 400000001), the game is the catalogue's Sweet Bonanza
(``vs20fruitsw`` of Pragmatic Play, provider 1), and the tokens are the documented example tokens of
spec 13.3.  ``tests/api/test_openapi_examples.py`` checks them against the fixtures and plays the
``/v4`` request examples against the simulator.
"""

from __future__ import annotations

from typing import Any

#: The documented example tokens (spec 13.3), the fixture agents' tokens.
DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
CALLBACK_TOKEN = "eadd5a04-4720-4a10-ae60-b11cd01cc3aa"
#: ``test1234`` of ``demo``: the first player the fixtures create.
FIXTURE_USER_CODE = 400000001
#: Sweet Bonanza, Pragmatic Play's first game in ``fixtures/default/catalogue.json``.
GAME_CODE = "vs20fruitsw"
PROVIDER_ID = 1
ROUND_ID = "336097135001"
LAUNCH_URL = "http://127.0.0.1:8080/play/uLbHYZJl9T93Fc9s2JQs343d_x5-q9S_"

#: By field name, for every schema that has the field.
BY_NAME: dict[str, Any] = {
    # players, agents, money
    "user_code": FIXTURE_USER_CODE,
    "user_name": "test1234",
    "account": "test1234",
    "agent": "demo",
    "balance": 10000,
    "prebalance": 10100,
    "amount": 50000,
    "trans_amount": 100,
    "points": 5000,
    "currency": 1,
    "decimals": 0,
    "rtp": 90,
    "win_ratio": 95,
    "min_bet": 100,
    "max_bet": 100000,
    "max_win": 0,
    "call_min": 1000,
    "client_ip": "127.0.0.1",
    "whitelist": ["127.0.0.1"],
    "allowed_ips": "127.0.0.1 ::1",
    "callback_url": "http://127.0.0.1:8090/callback",
    "callback_token": CALLBACK_TOKEN,
    "callback_dialect": "v4",
    "bonus_call_enabled": True,
    "rtp_api_enabled": True,
    "approved": True,
    "disabled": False,
    "providers": [PROVIDER_ID],
    # catalogue and launches
    "lang": 1,
    "provider_id": PROVIDER_ID,
    "provider_name": "Pragmatic Play",
    "provider": "Pragmatic Play",
    "locale_name": "Pragmatic Play",
    "game_code": GAME_CODE,
    "game_symbol": GAME_CODE,
    "game_name": "Sweet Bonanza",
    "game": "Sweet Bonanza",
    "game_image": f"http://127.0.0.1:8080/media/games/{PROVIDER_ID}/{GAME_CODE}.svg",
    "game_image_narrow": f"http://127.0.0.1:8080/media/games/{PROVIDER_ID}/narrow/{GAME_CODE}.svg",
    "launch_enable": True,
    "category": "Slots",
    "reg_date": "2024-03-14 00:00:00",
    "return_url": "https://casino.example/lobby",
    "game_url": LAUNCH_URL,
    "is_finish_jackpot": None,
    "status": 1,
    # rounds and history
    "round_id": ROUND_ID,
    "bet": 100,
    "win": 0,
    "rounds": 3,
    "multiplier": 10,
    "trans_id": 1,
    "trans_type": 1,
    "last_id": 0,
    "offset": 0,
    "limit": 100,
    "total": 1,
    "count": 1,
    "start_time": "2026-01-13 12:00:00",
    "end_time": "2026-01-13 13:00:00",
    "regdate": "2026-01-13 12:00:05",
    "time": "2026-01-13 12:00:05",
    "last_update": "2026-01-13 12:00:05",
    "time_stamp": 1768305605000,
    "url": f"http://127.0.0.1:8080/round/3-{ROUND_ID}-d5f53f",
    "slot_bet": 1000,
    "slot_win": 950,
    "live_bet": 0,
    "live_win": 0,
    "mini_bet": 0,
    "mini_win": 0,
    # sessions, bonus calls, free rounds
    "gplay_id": 8949101,
    "last_round_bet": 100,
    "spend": 300,
    "call_id": 1,
    "call_win": 0,
    "call_enable": True,
    "callend_flag": False,
    "call_status": 0,
    "set_point": 2500,
    "memo": "spring promo",
    "type": 0,
    "fr_id": "FR-400000001-000001",
    "expirationDate": 1893456000000,
    "is_new_user": True,
    # control
    "transaction": "bet",
    "players": 10,
    "rounds_per_second": 20,
    "duration_s": 30,
    "deposit": 10000,
    "drain_s": 20,
    "accounts": ["test1234"],
    "from": "demo_operator",
    "to": "demo",
    "parent": "demo_operator",
    "kind": "agent",
    "error": "BALANCE_NOT_ENOUGH",
}

#: Where one name means different things: ``(schema name, field name)``.
BY_SCHEMA: dict[tuple[str, str], Any] = {
    ("UserCreateRequest", "name"): "alice_2026",
    ("UserInfo", "name"): "test1234",
    ("AgentInfo", "name"): "demo",
    ("AgentInfo", "rtp"): 95,
    ("AgentInfo", "balance"): 1000000,
    ("AgentCreate", "name"): "my_casino",
    ("PointsTransfer", "amount"): 1000,
    ("UserCreated", "user_code"): 400000027,
    ("FreeRoundStartRequest", "rounds"): 10,
    ("FreeRoundStartRequest", "win"): 0,
    ("OnlineGame", "category"): 1,
    ("OnlineGame", "start_time"): "2026-01-13 12:00:00",
    ("ProviderItem", "status"): 1,
    ("RecentRound", "status"): "settled",
    ("SpinResult", "status"): "settled",
    ("SpinResult", "multiplier"): 0,
    ("CallbackTest", "time"): "2026-01-13 12:00:05",
    ("WalletResult", "balance"): 50000,
    ("TrafficRequest", "bet"): 100,
}


#: Path parameters of ``/admin/api`` and ``/control``.
PATH_PARAMETERS: dict[str, Any] = {
    "name": "demo",
    "user_code": FIXTURE_USER_CODE,
    "entry_id": 1,
    "fault_id": 1,
    "run_id": 1,
}


def example_for(schema_name: str, field_name: str) -> Any:
    """The example of a field, or ``KeyError`` when the table has none (a test requires one for each)."""
    if (schema_name, field_name) in BY_SCHEMA:
        return BY_SCHEMA[(schema_name, field_name)]
    return BY_NAME[field_name]
