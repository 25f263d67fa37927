"""A fixed script of ``/v4`` requests whose exact answers (status, headers, body bytes) are recorded.

Every endpoint is called on success and on its errors: missing and wrong tokens, wrong methods,
malformed and invalid bodies, forced result codes, fault rules, domain refusals.  The clock reads a
fixed wall time, the one-time tokens and the round-link secret come from a seeded generator and
the wallet of ``demo_seamless`` is a canned HTTP adapter, so every run answers the same bytes.

``tests/api/test_v4_replay.py`` compares a run with :data:`GOLDEN`, one digest per answer
(issue 17: every ``/v4`` answer stays byte-identical through a refactoring of the endpoints).
When an answer changes on purpose, ``python -m tests.api.v4_replay --write`` records the new
digests, and ``python -m tests.api.v4_replay > answers.json`` prints the answers in full, so
two runs can be compared with ``diff``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from requests.adapters import BaseAdapter
from requests.models import Response as RequestsResponse

import simulator.clock
import simulator.fixtures
from simulator import create_app
from simulator.config import Settings
from simulator.http import simulator_of

DEMO_TOKEN = "ed45553e-1702-4342-a70d-09bf7ff7f568"
SEAMLESS_TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"
DEMO_USER = 400000001
#: The wall time the clock reads while the fixtures are loaded: their deposits lie months before START.
WALL_TIME = datetime(2027, 1, 4, 9, 30, tzinfo=UTC).timestamp()
START = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).with_name("v4_answers.json")
WALLET = "http://127.0.0.1:8090/"


class _CannedWallet(BaseAdapter):
    """``demo_seamless``'s wallet: every command succeeds with a balance of 5000, without a socket."""

    def send(self, request: Any, **kwargs: Any) -> RequestsResponse:
        body = json.loads(request.body or b"{}")
        reply = {"result": 0, "status": "OK", "data": {"balance": 5000, "account": body.get("account")}}
        response = RequestsResponse()
        response.status_code = 200
        response.raw = _Raw(json.dumps(reply).encode())
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


class _Raw:
    """The part of urllib3's response ``requests`` reads when streaming."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, amount: int = 1024, decode_content: bool = True) -> Iterator[bytes]:
        yield self._content
        self._content = b""

    def read(self, amount: int = -1, **kwargs: Any) -> bytes:
        content, self._content = self._content, b""
        return content

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def _seeded_secrets(seed: int) -> Iterator[None]:
    """``secrets.token_urlsafe`` and ``token_hex`` from a seeded generator: launch tokens, session
    keys and the round-link secret repeat from run to run.  Only on the replay's own thread: a
    thread left over by an earlier test (a Redis heartbeat, a poller) still draws real secrets
    and cannot shift the sequence."""
    rng = random.Random(seed)
    owner = threading.get_ident()
    real_bytes = secrets.token_bytes

    def token_bytes(n: int | None = None) -> bytes:
        if threading.get_ident() != owner:
            return real_bytes(n)
        return rng.randbytes(32 if n is None else n)

    def token_urlsafe(n: int | None = None) -> str:
        return base64.urlsafe_b64encode(token_bytes(n)).rstrip(b"=").decode("ascii")

    def token_hex(n: int | None = None) -> str:
        return token_bytes(n).hex()

    with (
        mock.patch.object(secrets, "token_urlsafe", token_urlsafe),
        mock.patch.object(secrets, "token_hex", token_hex),
        mock.patch.object(secrets, "token_bytes", token_bytes),
    ):
        yield


class Recorder:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.answers: list[dict[str, Any]] = []

    def call(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = DEMO_TOKEN,
        raw: bytes | None = None,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        remote_addr: str = "127.0.0.1",
        url: str | None = None,
    ) -> Any:
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": all_headers, "environ_base": {"REMOTE_ADDR": remote_addr}}
        if raw is not None:
            kwargs["data"] = raw
            kwargs["content_type"] = "application/json"
        elif body is not None:
            kwargs["json"] = body
        target = url or f"/v4/{path}"
        response = self.client.open(target, method=method, **kwargs)
        content = response.get_data()
        self.answers.append(
            {
                "request": f"{method} {target} {json.dumps(body) if raw is None else raw!r} "
                f"token={token and token[:8]} {headers or ''}",
                "status": response.status,
                "headers": [list(pair) for pair in response.headers.to_wsgi_list()],
                "body": content.decode("utf-8", "backslashreplace"),
            }
        )
        try:
            return json.loads(content)
        except ValueError:
            return None


#: A body each endpoint accepts on the fixtures (some values are filled in as the script goes).
def _valid_bodies(launch_user: int) -> dict[str, Any]:
    return {
        "agent/info": {},
        "agent/rtp": {"rtp": 90},
        "agent/callback-test": {},
        "user/create": {"name": "replay_player"},
        "user/info": {"user_code": DEMO_USER},
        "wallet/deposit": {"user_code": DEMO_USER, "amount": 1500},
        "wallet/withdraw": {"user_code": DEMO_USER, "amount": 500},
        "wallet/withdraw-all": {"user_code": launch_user},
        "game/providers": {"lang": 1},
        "game/games": {"provider_id": 1, "lang": 1},
        "game/all": {},
        "game/game-url": {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
        "game/kick_games": {"user_code": launch_user},
        "game/online-games": {},
        "game/transaction": {
            "start_time": "2027-06-01 12:00:00",
            "end_time": "2027-06-01 13:00:00",
            "offset": 0,
            "limit": 10,
        },
        "game/transaction-id": {"last_id": 0, "limit": 10},
        "game/round-details": {"user_code": DEMO_USER, "round_id": "1"},
        "statistics/user": {
            "start_time": "2027-06-01 00:00:00",
            "end_time": "2027-06-01 23:59:59",
            "offset": 0,
            "limit": 10,
        },
        "game/call_config": {},
        "game/call_start": {"gplay_id": 1, "set_point": 5000},
        "game/call_cancel": {"call_id": 1},
        "game/freeround/start": {
            "user_code": DEMO_USER,
            "provider_id": 1,
            "game_code": "vs20fruitsw",
            "bet": 100,
            "rounds": 5,
            "expirationDate": 1_900_000_000_000,
        },
        "game/freeround/create": {
            "user_code": DEMO_USER,
            "provider_id": 1,
            "game_symbol": "vs20fruitsw",
            "bet": 100,
            "rounds": 3,
            "expirationDate": 1_900_000_000_000,
        },
        "game/freeround/cancel": {"fr_id": "1"},
    }


def _play_rounds(sim: Any, user_code: int, multipliers: list[Fraction], game: tuple[int, str]) -> list[Any]:
    """Rounds played as the game page plays them, with forced outcomes."""
    from decimal import Decimal

    from simulator.domain.sessions import LaunchRequest

    world = sim.world
    agent = world.hierarchy.get("demo")
    launch = world.sessions.launch(agent, LaunchRequest(user_code, game[0], game[1], 1))
    session = world.sessions.open(launch.token)
    world.forced.push(agent.agent_id, world.store.user(user_code).name, multipliers)
    rounds = []
    for _ in multipliers:
        rounds.append(world.rounds.play(session, Decimal(100)))
        sim.clock.advance(7)
    return rounds


def _player_names(count: int, seed: int, taken: set[str]) -> list[str]:
    """The fixture players' names without Faker, whose names for a seed change between its releases."""
    return [f"replay_{seed % 1000:03d}_{number:03d}" for number in range(count)]


def record() -> list[dict[str, Any]]:
    """Run the script on a fresh memory-store simulator; the answers in order."""
    wall = SimpleNamespace(time=lambda: WALL_TIME)
    with (
        _seeded_secrets(17),
        mock.patch.object(simulator.clock, "time", wall),
        mock.patch.object(simulator.fixtures, "player_names", _player_names),
    ):
        app = create_app(Settings(store="memory", seed=20260101))
        sim = simulator_of(app)
        try:
            return _script(app, sim)
        finally:
            sim.backend.drop_everything()
            sim.close()


def _script(app: Any, sim: Any) -> list[dict[str, Any]]:
    sim.callbacks.mount(WALLET, _CannedWallet())
    real_send = sim.callbacks.send
    # callback-test reports the wallet's answer time: a fixed one here.
    sim.callbacks.send = lambda *a, **k: replace(real_send(*a, **k), duration_ms=12.4)
    client = app.test_client()
    rec = Recorder(client)
    call = rec.call

    # Balances before the clock moves: the fixture deposits are months before START.
    call("user/info", {"user_code": DEMO_USER})
    call("wallet/withdraw-all", {"user_code": DEMO_USER + 2})
    sim.clock.freeze(True)
    sim.clock.set(START)

    # -- every endpoint: the generic refusals -------------------------------------------
    bodies = _valid_bodies(DEMO_USER + 3)
    for path in bodies:
        call(path, {}, token=None)
        call(path, {}, token="00000000-0000-0000-0000-000000000000")
        call(path, {}, token="not a uuid")
        call(path, method="GET")
        call(path, method="PUT", raw=b"{}")
        call(path, raw=b"{not json")
        call(path, raw=b"[1, 2]")
        call(path, raw=b'"text"')
        call(path, raw=b"")
        call(path, {"user_code": "x", "lang": 99, "provider_id": -1, "amount": "a", "rtp": [], "last_id": -5})
        call(path, bodies[path], headers={"X-Sim-Result": "1010"})
        call(path, bodies[path], headers={"X-Sim-Result": "1002"})
        call(path, bodies[path], headers={"X-Sim-Result": "0"})
        call(path, bodies[path], headers={"X-Sim-Result": "banana"})
        call(path, bodies[path], remote_addr="10.9.8.7", headers={"X-Forwarded-For": "1.2.3.4"})
        call(path, url=f"/v4/{path}/")
        call(path, raw=b"{" * 40 + b"}" * 40)
        call(path, raw=b'{"a": NaN}')
        call(path, raw=("x" * (70 * 1024)).encode())

    # -- routing ---------------------------------------------------------------------------------
    for url in ("/v4", "/v4/", "/v4/nothing", "/v4//user/info", "/V4/agent/info", "/v4/user", "/v4/a\nb"):
        call("", {}, url=url)
        call("", url=url, method="GET")
    odd_urls = (
        "/v4/agent/info",
        "/v4/agent/info/",
        "/v4/agent/info//",
        "/v4/agent/info/more",
        "/v4///",
        "/v4/agent//info",
        "/V4",
        "/v4/\u00e9t\u00e9",
        "/v4/agent/info?x=1",
    )
    for url in odd_urls:
        for method in ("POST", "HEAD", "OPTIONS", "DELETE", "PATCH", "TRACE"):
            call("", {}, url=url, method=method)

    # -- agent -----------------------------------------------------------------------------------
    call("agent/info", {})
    call("agent/info", {}, token=SEAMLESS_TOKEN)
    call("agent/callback-test", {}, token=SEAMLESS_TOKEN)
    call("agent/callback-test", {})
    for body in (
        {"rtp": 90},
        {"win_ratio": 80},
        {"rtp": 80, "win_ratio": 90},
        {"rtp": 0},
        {"rtp": 96},
        {"rtp": 50},
        {"rtp": "90.5"},
        {"rtp": 90.25},
        {"rtp": True},
        {},
    ):
        call("agent/rtp", body)
        call("agent/info", {})

    # -- users and wallet -------------------------------------------------------------------------
    for name in ("replay_player", "replay_player", "a", "bad name!", "x" * 51, "Replay_2", 12345, None):
        call("user/create", {"name": name})
    for user in (DEMO_USER, DEMO_USER + 1, 400999999, 0, -1, "400000001", 1.5, 2**63):
        call("user/info", {"user_code": user})
    call("user/info", {"user_code": DEMO_USER}, token=SEAMLESS_TOKEN)
    for amount in (1500, "12.5", 0, -10, 10**20, "abc", 1e3, 999999999):
        call("wallet/deposit", {"user_code": DEMO_USER, "amount": amount})
        call("wallet/withdraw", {"user_code": DEMO_USER, "amount": amount})
    call("wallet/deposit", {"user_code": 400999999, "amount": 100})
    call("wallet/deposit", {"user_code": DEMO_USER, "amount": 100}, token=SEAMLESS_TOKEN)
    call("wallet/withdraw", {"user_code": DEMO_USER, "amount": 100}, token=SEAMLESS_TOKEN)
    call("wallet/withdraw-all", {"user_code": DEMO_USER}, token=SEAMLESS_TOKEN)
    call("wallet/withdraw-all", {"user_code": DEMO_USER + 3})
    call("wallet/withdraw-all", {"user_code": DEMO_USER + 3})
    call("wallet/withdraw-all", {"user_code": 400999999})
    call("user/info", {"user_code": DEMO_USER})

    # -- catalogue --------------------------------------------------------------------------------
    for lang in (1, 2, 6, 7, 0):
        call("game/providers", {"lang": lang})
    for provider in (1, 15, 2, 999, 0):
        call("game/games", {"provider_id": provider, "lang": 1})
    call("game/games", {"provider_id": 1, "lang": 3})
    for body in ({}, {"lang": 2}, {"lang": 9}):
        call("game/all", body)
    assert client.patch("/admin/api/agents/demo", json={"providers": [1, 15]}).status_code == 200
    call("game/providers", {"lang": 1})
    call("game/games", {"provider_id": 2, "lang": 1})
    call("game/all", {})
    call("game/all", {}, token=SEAMLESS_TOKEN)

    # -- launches and sessions ----------------------------------------------------------------------
    url_bodies = [
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 2, "rtp": 85},
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1, "win_ratio": 50},
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1, "rtp": 101},
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "nope", "lang": 1},
        {"user_code": DEMO_USER, "provider_id": 2, "game_symbol": "vs20fruitsw", "lang": 1},
        {"user_code": DEMO_USER, "game_symbol": "vs20fruitsw", "lang": 1},
        {"user_code": 400999999, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 1},
        {"user_code": DEMO_USER, "provider_id": 1, "game_symbol": "vs20fruitsw", "lang": 14},
        {
            "user_code": DEMO_USER + 1,
            "provider_id": 15,
            "game_symbol": "aviator",
            "lang": 1,
            "return_url": "https://casino.example/lobby",
        },
    ]
    launches = []
    for body in url_bodies:
        answer = call("game/game-url", body)
        if answer and answer.get("code") == 0:
            launches.append(answer["data"]["game_url"])
    call("game/game-url", url_bodies[0], token=SEAMLESS_TOKEN)
    call("game/online-games", {})
    for game_url in launches:
        assert client.get(game_url.split("127.0.0.1:8080", 1)[1]).status_code == 303
    sim.clock.advance(30)
    call("game/online-games", {})
    call("game/online-games", {}, token=SEAMLESS_TOKEN)

    # -- bonus calls ------------------------------------------------------------------------------
    call("game/call_config", {})
    call("game/call_config", {}, token=SEAMLESS_TOKEN)
    online = call("game/online-games", {})["data"]
    gplay_id = online[0]["gplay_id"]
    for body in (
        {"gplay_id": gplay_id, "set_point": 5000, "type": 1, "memo": "replay"},
        {"gplay_id": gplay_id, "set_point": 5000},
        {"gplay_id": gplay_id, "set_point": 10},
        {"gplay_id": gplay_id, "set_point": 0},
        {"gplay_id": gplay_id, "set_point": -5},
        {"gplay_id": 999999, "set_point": 5000},
        {"gplay_id": online[-1]["gplay_id"], "set_point": 5000},
    ):
        call("game/call_start", body)
    call("game/online-games", {})
    for call_id in (1, 1, 2, 999999, -1):
        call("game/call_cancel", {"call_id": call_id})
    call("game/online-games", {})

    # -- free rounds ---------------------------------------------------------------------------------
    free = _valid_bodies(DEMO_USER)
    grants = []
    for path in ("game/freeround/start", "game/freeround/create"):
        answer = call(path, free[path])
        if answer and answer.get("code") == 0:
            grants.append(answer["data"]["fr_id"])
        for change in (
            {"bet": 0},
            {"rounds": 0},
            {"rounds": 10**6},
            {"expirationDate": 1},
            {"game_code": "nope"},
            {"provider_id": 999},
            {"user_code": 400999999},
            {"win": 50},
            {"win": -1},
            {"game_code": "vs20fruitsw", "game_symbol": "nope"},
        ):
            answer = call(path, {**free[path], **change})
            if answer and answer.get("code") == 0:
                grants.append(answer["data"]["fr_id"])
    for fr_id in (*grants, grants[0], "unknown", ""):
        call("game/freeround/cancel", {"fr_id": fr_id})

    # -- history ----------------------------------------------------------------------------------------
    call("game/kick_games", {"user_code": DEMO_USER})
    call("game/kick_games", {"user_code": DEMO_USER})
    call("game/kick_games", {"user_code": 400999999})
    call("game/online-games", {})
    call("wallet/deposit", {"user_code": DEMO_USER + 1, "amount": 20000})
    rounds = _play_rounds(
        sim, DEMO_USER, [Fraction(2), Fraction(0), Fraction(1, 2), Fraction(10)], (1, "vs20fruitsw")
    )
    rounds += _play_rounds(sim, DEMO_USER + 1, [Fraction(3), Fraction(0)], (15, "aviator"))
    rounds += _play_rounds(sim, DEMO_USER + 1, [Fraction(0), Fraction(5, 4)], (1, "sim_live_roulette"))
    sim.clock.advance(60)
    windows = [
        ("2027-06-01 12:00:00", "2027-06-01 13:00:00"),
        ("2027-06-01 12:00:00", "2027-06-01 14:00:00"),
        ("2027-06-01T12:00:00+02:00", "2027-06-01T12:30:00+02:00"),
        ("2027-06-01 13:00:00", "2027-06-01 12:00:00"),
        ("yesterday", "2027-06-01 13:00:00"),
        ("2027-05-01 00:00:00", "2027-05-01 00:30:00"),
    ]
    for start, end in windows:
        for offset, limit in ((0, 10), (3, 10), (0, 9), (0, 2001)):
            call("game/transaction", {"start_time": start, "end_time": end, "offset": offset, "limit": limit})
            sim.clock.advance(31)
            call("statistics/user", {"start_time": start, "end_time": end, "offset": offset, "limit": limit})
    call("game/transaction", bodies["game/transaction"])
    call("game/transaction", bodies["game/transaction"])
    for last_id in (0, 3, 10**6, -1):
        call("game/transaction-id", {"last_id": last_id, "limit": 10})
        call("game/transaction-id", {"last_id": last_id, "limit": 10})
        sim.clock.advance(31)
    call(
        "statistics/user",
        {"start_time": "2027-03-01 00:00:00", "end_time": "2027-06-02 00:00:00", "offset": 0, "limit": 10},
    )
    for round_ in rounds[:3]:
        call("game/round-details", {"user_code": round_.user_code, "round_id": round_.round_id})
        call(
            "game/round-details",
            {
                "user_code": round_.user_code,
                "round_id": round_.round_id,
                "provider_id": 1,
                "game_code": "vs20fruitsw",
            },
        )
        call(
            "game/round-details",
            {"user_code": round_.user_code, "round_id": round_.round_id, "provider_id": 0, "game_code": ""},
        )
    call("game/round-details", {"user_code": DEMO_USER, "round_id": "nope"})
    call("game/round-details", {"user_code": DEMO_USER + 1, "round_id": rounds[0].round_id})
    call("game/round-details", {"user_code": DEMO_USER, "round_id": rounds[0].round_id, "provider_id": 15})
    call("game/round-details", {"user_code": DEMO_USER, "round_id": "x" * 65})

    # -- fault rules and maintenance ----------------------------------------------------------------------
    for effect in ({"code": 1018}, {"latency_ms": 0}, {"drop": True}):
        rule = {"agent": "demo", "target": "api:/v4/user/info", "effect": effect, "times": 1}
        assert client.post("/control/faults", json=rule).status_code == 201
        call("user/info", {"user_code": DEMO_USER})
    client.post("/control/maintenance", json={"scope": "game:1:vs20fruitsw", "on": True})
    call("game/game-url", url_bodies[0])
    call("game/games", {"provider_id": 1, "lang": 1})
    client.post("/control/maintenance", json={"scope": "platform", "on": True})
    call("agent/info", {})
    call("user/info", {"user_code": DEMO_USER}, raw=b"{bad")
    client.post("/control/maintenance", json={"scope": "platform", "on": False})
    assert client.patch("/admin/api/agents/demo", json={"rtp_api_enabled": False}).status_code == 200
    call("agent/rtp", {"rtp": 90})
    assert client.patch("/admin/api/agents/demo", json={"allowed_ips": "10.0.0.1"}).status_code == 200
    call("agent/info", {})
    call("agent/info", {}, remote_addr="10.0.0.1")
    call("user/info", {"user_code": DEMO_USER}, remote_addr="10.0.0.1")
    return rec.answers


def summary(answer: dict[str, Any]) -> dict[str, Any]:
    """What :data:`GOLDEN` keeps of an answer: the request, the result code and a digest of the bytes."""
    try:
        code = json.loads(answer["body"])["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    exact = json.dumps([answer["status"], answer["headers"], answer["body"]], ensure_ascii=False)
    return {
        "request": answer["request"][:160],
        "status": answer["status"],
        "code": code,
        "sha256": hashlib.sha256(exact.encode("utf-8", "backslashreplace")).hexdigest()[:24],
    }


def main(argv: list[str]) -> None:
    answers = record()
    if argv == ["--write"]:
        summaries = [summary(answer) for answer in answers]
        lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in summaries)
        GOLDEN.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
        print(f"{len(summaries)} answers recorded in {GOLDEN}", file=sys.stderr)
    else:
        json.dump(answers, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
