"""``/control/outcomes`` and ``/control/play`` (control-api.md): drive play without a browser.

``/control/play`` plays through the same path as the game page: a launch
(``game-url`` checks included), an opened session, then ``Rounds.play`` per
round - so CI sees exactly what a player would cause.  Given a ``game_url``
that the integrator's own code obtained from ``game/game-url``, it opens that
one-time URL as the player's browser would (consuming it) and plays there.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

from flask import Response
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..api.fields import Amount, SpecInt, Text
from ..backoffice.schemas import first_error
from ..codes import SimError
from ..domain.models import GameSession
from ..domain.rounds import RoundFailed
from ..domain.sessions import LaunchError, LaunchRequest
from ..http import ApiError, Routes, current_simulator, json_body, json_response
from ..money import ZERO
from ..seamless.protocol import status_data

routes = Routes()

MAX_ROUNDS = 100_000


class _Multiplier(Schema):
    class Meta:
        unknown = RAISE

    multiplier = Amount(required=True, minimum=ZERO, exclusive=False)


class OutcomesRequest(Schema):
    class Meta:
        unknown = RAISE

    agent = fields.String(required=True)
    account = fields.String(required=True)
    next = fields.List(fields.Nested(_Multiplier), required=True, validate=validate.Length(min=1, max=10_000))


class PlayRequest(Schema):
    class Meta:
        unknown = RAISE

    agent = fields.String(required=True)
    user_code = SpecInt(required=True, low=1)
    provider_id = SpecInt(required=True, low=0)
    game_code = Text(required=True, min_length=1)
    bet = Amount(required=True)
    rounds = SpecInt(load_default=1, low=1, high=MAX_ROUNDS)


class PlayLaunchRequest(Schema):
    """``/control/play`` through a launch the caller obtained: the game, player and agent are the launch's."""

    class Meta:
        unknown = RAISE

    game_url = Text(required=True, min_length=1)
    bet = Amount(required=True)
    rounds = SpecInt(load_default=1, low=1, high=MAX_ROUNDS)


_outcomes = OutcomesRequest()
_play = PlayRequest()
_play_launch = PlayLaunchRequest()
#: The path of a one-time game URL (``game/game-url``); the host may be any public URL of the simulator.
_LAUNCH_PATH = re.compile(r"/play/([A-Za-z0-9_-]+)")


def _load(schema: Schema, body: Any = None) -> dict[str, Any]:
    try:
        return schema.load(json_body() if body is None else body)
    except ValidationError as exc:
        raise ApiError(first_error(exc.messages)) from None


@routes.post("/outcomes", body=OutcomesRequest)
def force_outcomes() -> Response:
    """The account's next rounds settle with these multipliers of the stake (0 = loss)."""
    values = _load(_outcomes)
    world = current_simulator().world
    agent = world.hierarchy.get(values["agent"])
    if world.store.user_by_name(agent.agent_id, agent.mode, values["account"]) is None:
        raise ApiError(f"agent {agent.name} has no player {values['account']!r} in {agent.mode} mode", 404)
    multipliers = [Fraction(item["multiplier"]) for item in values["next"]]
    pending = world.forced.push(agent.agent_id, values["account"], multipliers)
    return json_response({"agent": agent.name, "account": values["account"], "pending": pending})


def _session_for(values: dict[str, Any]) -> GameSession:
    """The user's online session of that game, or a new one launched like ``game-url`` does."""
    world = current_simulator().world
    agent = world.hierarchy.get(values["agent"])
    user = world.users.lookup(agent, values["user_code"])
    for session in reversed(world.sessions.online(agent)):
        if (
            session.user_code == user.user_code
            and session.provider_id == values["provider_id"]
            and session.game_code == values["game_code"]
            and not session.kicked
        ):
            return session
    launch = world.sessions.launch(
        agent, LaunchRequest(user.user_code, values["provider_id"], values["game_code"], 1)
    )
    session = world.sessions.open(launch.token)
    world.rounds.refresh_balance(session)
    return session


def _opened_launch(game_url: str) -> GameSession:
    """Open a one-time game URL as the player's browser does: 404 unknown, 409 already opened or expired."""
    path = _LAUNCH_PATH.fullmatch(urlsplit(game_url).path)
    if path is None:
        raise ApiError(f"game_url must be a game URL from game/game-url (.../play/<token>), got {game_url!r}")
    world = current_simulator().world
    try:
        session = world.sessions.open(path.group(1))
    except LaunchError as exc:
        raise ApiError(exc.message, 404 if exc.reason == "unknown" else 409) from None
    world.rounds.refresh_balance(session)
    return session


@routes.post("/play", body={"oneOf": [PlayRequest, PlayLaunchRequest]})
def play() -> Response:
    """Play rounds through the game engine, for an agent's player or through a one-time ``game_url``."""
    body = json_body()
    if "game_url" in body:
        both = sorted(set(body) & {"agent", "user_code", "provider_id", "game_code"})
        if both:
            raise ApiError(
                f"give game_url or agent, user_code, provider_id and game_code, not both ({both[0]})"
            )
        values = _load(_play_launch, body)
        session = _opened_launch(values["game_url"])
    else:
        values = _load(_play, body)
        session = _session_for(values)
    world = current_simulator().world
    agent = world.store.agent(session.agent_id)
    user = world.store.user(session.user_code)
    wallet_balance = world.rounds.balance_of
    bet: Decimal = values["bet"]
    results: list[dict[str, Any]] = []
    for _ in range(values["rounds"]):
        try:
            round_ = world.rounds.play(session, bet)
        except RoundFailed as failed:
            round_ = failed.round
        except SimError as error:
            results.append(
                {
                    "round_id": None,
                    "bet": bet,
                    "win": ZERO,
                    "balance": wallet_balance(agent, user),
                    "status": "refused",
                    "error": error.code.name,
                    "message": error.detail,
                }
            )
            break
        results.append(
            {
                "round_id": round_.round_id,
                "bet": round_.bet,
                "win": round_.win,
                "balance": wallet_balance(agent, user),
                "status": round_.status,
            }
        )
    return json_response(results)


@routes.post("/callbacks/<int:entry_id>/replay")
def replay_callback(entry_id: int) -> Response:
    """Send a logged callback again, same body and transaction id (control-api.md).

    If it belongs to a ``win`` or ``cancel`` whose retries ran out ("Win Error",
    OP-19), an accepted replay settles it: the Win row is recorded then.
    """
    sim = current_simulator()
    entry = sim.callback_log.get(entry_id)
    if entry is None:
        raise ApiError(f"no callback log entry {entry_id}", 404)
    agent = sim.world.store.agent(entry.agent_id)
    if agent is None:
        raise ApiError(f"callback {entry_id} belongs to an agent that no longer exists", 409)
    job = next((j for j in sim.retries.failed() if j.body == entry.request), None)
    if job is not None:
        attempt = sim.retries.replay(job)
    else:
        attempt = sim.callbacks.send(agent, entry.command, body=entry.request, attempt=entry.attempt + 1)
    replayed = sim.callback_log.get(attempt.entry_id)
    return json_response(
        {
            "entry": replayed.to_dict() if replayed else None,
            "settled": job is not None and job.state == "settled",
        }
    )


class StatusRequest(Schema):
    class Meta:
        unknown = RAISE

    agent = fields.String(required=True)
    round_id = Text(required=True, min_length=1)
    transaction = fields.String(load_default="bet", validate=validate.OneOf(["bet", "win", "cancel"]))


_status = StatusRequest()


@routes.post("/callbacks/status", body=StatusRequest)
def callback_status() -> Response:
    """Ask the wallet whether a round's bet, win or cancel was applied: a ``status`` callback (6.5).

    Answers the wallet's ``trans_status`` (``OK`` or ``CANCELED``), ``not_found``
    for result 42, or ``unreachable`` when no usable reply came (6.8).
    """
    values = _load(_status)
    sim = current_simulator()
    world = sim.world
    agent = world.hierarchy.get(values["agent"])
    round_ = world.store.round(agent.agent_id, values["round_id"])
    if round_ is None:
        raise ApiError(f"agent {agent.name} has no round {values['round_id']}", 404)
    ids = round_.callback_ids.get(values["transaction"])
    if ids is None:
        raise ApiError(f"round {round_.round_id} sent no {values['transaction']} callback", 404)
    user = world.store.user(round_.user_code)
    dialect = agent.settings.callback_dialect
    attempt = sim.callbacks.send(agent, "status", status_data(user.name, dialect, ids))
    reply = attempt.reply
    if not reply.usable:
        answer = "unreachable"
    elif reply.result == 42:
        answer = "not_found"
    elif reply.ok and reply.data and isinstance(reply.data.get("trans_status"), str):
        answer = reply.data["trans_status"]
    else:
        answer = f"result {reply.result}"
    return json_response(
        {"transaction": values["transaction"], "status": answer, "entry_id": attempt.entry_id}
    )
