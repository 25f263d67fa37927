"""The player's side: launch URLs, the game page, its spin API and the round pages.

``/play/<token>`` consumes a one-time launch URL (spec 5.12) and redirects to
``/play/session/<secret>``, so the game page survives a reload while the launch
URL does not.  The page is server-rendered; a small script spins through the
JSON API (``/play/api/session/<secret>/``) and swaps in the re-rendered page,
and a plain form POST does the same without JavaScript.  ``/round/<token>``
is the page behind ``round-details`` (spec 5.22).
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from marshmallow import RAISE, Schema, ValidationError

from ..api.fields import Amount
from ..codes import ResultCode, SimError
from ..currency import Currency, currency_of
from ..domain.enums import RoundStatus
from ..domain.history import ROUND_RETENTION
from ..domain.models import Agent, GameSession, Round, User
from ..domain.round_links import parse_round_token, round_token
from ..domain.rounds import RoundFailed
from ..domain.sessions import LaunchError
from ..game_kinds import action_of, kind_of
from ..http import BODY_LIMIT, ApiError, current_simulator, json_body, json_failure, json_response, utf8
from ..money import json_number
from ..runtime import Simulator, World
from .present import (
    DICE_FACES,
    HAND_RESULTS,
    LIVE_RESULTS,
    MAX_STAKE_TEXT,
    RED_NUMBERS,
    SPIN_STATUS,
    SUITS,
    TRANS_TYPE_NAMES,
    multiplier_number,
    parse_stake,
    plain,
    safe_return_url,
    spin_message,
    stake_bounds,
    times,
)

log = logging.getLogger("simulator.play")

pages = Blueprint(
    "play", __name__, template_folder="templates", static_folder="static", static_url_path="/play/static"
)
api = Blueprint("play_api", __name__, url_prefix="/play/api/session/<secret>")

#: No inline script or style, nothing from the network; the session key stays out of Referer headers.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class SpinRequest(Schema):
    class Meta:
        unknown = RAISE

    bet = Amount(required=True)


_spin_request = SpinRequest()


def guard() -> None:
    """The entrance of ``/play`` (:mod:`simulator.families`): a page's Spin form is open to
    anyone with the page, so its body is parsed only up to the limit.  The spin API reads its
    JSON body itself, bounded the same (:func:`simulator.http.json_body`), and answers a body
    too large in its own shape."""
    if request.blueprint == pages.name:
        request.max_content_length = BODY_LIMIT


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(utf8(render_template(template, **context)), status=status, mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response


class PageRefusal(Exception):
    """A game page that cannot be shown: the player gets an error page saying why."""

    def __init__(self, status: int, title: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.reason = status, title, message, reason


class SpinRefusal(Exception):
    """A refused call of the spin API: ``{"error": <code name>, "message", ...extra}``."""

    def __init__(self, code: ResultCode, message: str, status: int, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra


def failure(error: Exception) -> Response:
    """The error path of ``/play``: an error page for a page, the spin API's JSON for a spin,
    and ``{"error"}`` for a path no route matched."""
    if isinstance(error, PageRefusal):
        return _page(
            "play_error.html", error.status, title=error.title, message=error.message, reason=error.reason
        )
    if isinstance(error, SpinRefusal):
        body = {"error": error.code.name, "message": error.message, **error.extra}
        return json_response(body, error.status)
    return json_failure(error)


# -- what a page shows of a session ----------------------------------------------
class Table:
    """One session as the game page and the spin API present it."""

    def __init__(self, sim: Simulator, world: World, session: GameSession) -> None:
        self.sim, self.world, self.session = sim, world, session
        self.agent: Agent = world.store.agent(session.agent_id)
        self.user: User = world.sessions.user_of(session)
        catalogue = world.catalogue
        self.game = catalogue.game(session.provider_id, session.game_code)
        self.provider = catalogue.provider(session.provider_id)
        self.currency: Currency = currency_of(sim.settings.currencies, self.agent.settings.currency)
        self.bounds = stake_bounds(self.agent.settings.min_bet, self.agent.settings.max_bet, self.currency)

    @property
    def game_name(self) -> str:
        return self.game.locale_name(self.session.lang) if self.game else self.session.game_code

    @property
    def provider_name(self) -> str:
        return (
            self.provider.locale_name(self.session.lang) if self.provider else str(self.session.provider_id)
        )

    @property
    def category(self) -> str:
        return self.game.category if self.game else "Slots"

    @property
    def kind(self) -> str:
        """What the game is drawn as: ``slot``, ``baccarat``, ``roulette``, ``crash``..."""
        kind = kind_of(self.category, self.session.game_code)
        return "slot" if kind is None else kind.name

    @property
    def action(self) -> str:
        """The button's name, for the game: Spin, Deal, Roll, Drop or Bet."""
        return action_of(self.category, self.session.game_code)

    @property
    def balance(self) -> Decimal:
        """The balance the agent's wallet reports for this player."""
        return self.world.rounds.balance_of(self.agent, self.user)

    def recent(self) -> list[Round]:
        return self.world.rounds.recent(self.session)

    def round_link(self, round_: Round) -> str:
        return url_for(
            "play.round_page", token=round_token(self.sim.link_secret, round_.agent_id, round_.round_id)
        )

    def message(self, code: ResultCode, stake: Decimal | None = None) -> str:
        balance = self.balance if code == ResultCode.BALANCE_NOT_ENOUGH else None
        return spin_message(code, self.bounds, self.currency, self.session.ended, stake, balance)


def _view_context(sim: Simulator, currency: Currency) -> dict[str, Any]:
    return {
        "money": currency.money,
        "amount": currency.amount,
        "plain": plain,
        "format_time": lambda moment: sim.format_time(moment) if moment else "–",
        "live_results": LIVE_RESULTS,
        "red_numbers": RED_NUMBERS,
        "suits": SUITS,
        "dice_faces": DICE_FACES,
        "hand_results": HAND_RESULTS,
        "times": times,
        "type_names": TRANS_TYPE_NAMES,
        "time_zone": sim.settings.report_tz,
    }


def _table(secret: str) -> Table | None:
    sim = current_simulator()
    world = sim.world
    session = world.sessions.session(secret)
    return None if session is None else Table(sim, world, session)


def _missing_session() -> PageRefusal:
    return PageRefusal(
        404,
        title="Game session not found",
        message="This game session does not exist. Launch the game again from the casino.",
    )


# -- pages -------------------------------------------------------------------------
@pages.get("/play/<token>")
def open_launch(token: str) -> Response:
    """Consume the one-time URL; 404 unknown, 410 used or expired - and no session then."""
    try:
        session = current_simulator().world.sessions.open(token)
    except LaunchError as exc:
        status = 404 if exc.reason == "unknown" else 410
        title = {"unknown": "Unknown game link", "used": "Game link already used"}.get(
            exc.reason, "Game link expired"
        )
        raise PageRefusal(status, title=title, message=exc.message, reason=exc.reason) from None
    except SimError:  # seamless: the authenticate callback failed on opening
        message = "The casino's wallet did not answer, so the game could not start."
        raise PageRefusal(502, title="The game could not start", message=message) from None
    # The game shows a fresh balance on opening (6.5).
    current_simulator().world.rounds.refresh_balance(session)
    return redirect(url_for("play.game_page", secret=session.secret), 303)


@pages.get("/play/session/<secret>")
def game_page(secret: str) -> Response:
    table = _table(secret)
    if table is None:
        raise _missing_session()
    recent = table.recent()
    shown = recent[0] if recent else None
    wanted = request.args.get("round")
    if wanted:
        shown = next((r for r in recent if r.round_id == wanted), shown)
    error = request.args.get("error", "")
    # A refused stake comes back in ``bet``: the input keeps the player's choice, the message names it.
    chosen = request.args.get("bet", "").strip()[:MAX_STAKE_TEXT] if error else ""
    refused = parse_stake(chosen)
    message = table.message(ResultCode[error], refused) if error in ResultCode.__members__ else None
    return _page(
        "play_game.html",
        table=table,
        shown=shown,
        recent=recent,
        message=message,
        presets=table.bounds.presets(),
        balance=table.balance,
        stake=chosen or plain(table.session.last_round_bet or table.bounds.low),
        return_url=safe_return_url(table.session.return_url),
        **_view_context(table.sim, table.currency),
    )


@pages.post("/play/session/<secret>/spin")
def form_spin(secret: str) -> Response:
    """The Spin button without JavaScript: play, then show the page again (post/redirect/get)."""
    table = _table(secret)
    if table is None:
        raise _missing_session()
    typed = request.form.get("bet", "").strip()
    try:
        bet = _spin_request.load({"bet": typed})["bet"]
    except ValidationError:
        return _back(secret, error=ResultCode.VALIDATION_ERROR.name, bet=typed[:MAX_STAKE_TEXT])
    outcome = _play(table, bet)
    if isinstance(outcome, SimError):
        return _back(secret, error=outcome.code.name, round=_refunded_round_id(table, outcome), bet=typed)
    return _back(secret, round=outcome.round_id)


def _back(secret: str, **args: str | None) -> Response:
    query = {k: v for k, v in args.items() if v}
    return redirect(url_for("play.game_page", secret=secret, **query), 303)


@pages.get("/round/<token>")
def round_page(token: str) -> Response:
    """Spec 5.22: the bet and win breakdown of one round, for people (not raw data)."""
    sim = current_simulator()
    world = sim.world
    parsed = parse_round_token(sim.link_secret, token)
    round_ = world.store.round(parsed[0], parsed[1]) if parsed else None
    if round_ is None or sim.clock.now() - round_.created_at > ROUND_RETENTION:
        raise PageRefusal(
            404,
            title="Round not found",
            message="There is no round behind this link: it is mistyped, forged, or older than 30 days.",
        )
    store = world.store
    agent = store.agent(round_.agent_id)
    user = store.user(round_.user_code)
    rows = [t for t in store.transactions_of(round_.agent_id) if t.round_id == round_.round_id]
    game = world.catalogue.game(round_.provider_id, round_.game_code)
    provider = world.catalogue.provider(round_.provider_id)
    currency = currency_of(sim.settings.currencies, agent.settings.currency)
    return _page(
        "play_round.html",
        round=round_,
        user=user,
        game_name=game.game_name if game else round_.game_code,
        provider_name=provider.provider_name if provider else str(round_.provider_id),
        currency=currency,
        multiplier=multiplier_number(round_.multiplier),
        transactions=rows,
        **_view_context(sim, currency),
    )


# -- the spin API -------------------------------------------------------------------


@api.get("/state")
def state(secret: str) -> Response:
    table = _table(secret)
    if table is None:
        raise SpinRefusal(ResultCode.RESOURCE_NOT_FOUND, "no game session with this key", 404)
    limits = table.agent.settings
    return json_response(
        {
            "game": table.game_name,
            "game_code": table.session.game_code,
            "provider": table.provider_name,
            "provider_id": table.session.provider_id,
            "category": table.category,
            "kind": table.kind,
            "action": table.action,
            "balance": table.balance,
            "currency": table.currency.iso,
            "decimals": table.currency.decimals,
            "min_bet": limits.min_bet,
            "max_bet": limits.max_bet,
            "ended": table.session.ended,
            "return_url": safe_return_url(table.session.return_url),
            "recent": [
                {
                    "round_id": r.round_id,
                    "bet": r.bet,
                    "win": r.win,
                    "status": r.status,
                    "time": table.sim.format_time(r.created_at),
                }
                for r in table.recent()
            ],
        }
    )


@api.post("/spin")
def spin(secret: str) -> Response:
    table = _table(secret)
    if table is None:
        raise SpinRefusal(ResultCode.RESOURCE_NOT_FOUND, "no game session with this key", 404)
    try:
        bet = _spin_request.load(json_body())["bet"]
    except (ApiError, ValidationError) as exc:
        detail = exc.message if isinstance(exc, ApiError) else _first(exc.messages)
        raise SpinRefusal(
            ResultCode.VALIDATION_ERROR, f"{table.message(ResultCode.VALIDATION_ERROR)} ({detail})", 400
        ) from None
    outcome = _play(table, bet)
    if isinstance(outcome, RoundFailed):
        round_id = _refunded_round_id(table, outcome)
        raise SpinRefusal(
            outcome.code,
            table.message(outcome.code),
            500,
            refunded=True,
            round_id=round_id,
            balance=table.balance,
        )
    if isinstance(outcome, SimError):
        status = 410 if table.session.ended else SPIN_STATUS.get(outcome.code, 409)
        raise SpinRefusal(outcome.code, table.message(outcome.code, bet), status, detail=outcome.detail)
    return json_response(
        {
            "round_id": outcome.round_id,
            "bet": outcome.bet,
            "win": outcome.win,
            "multiplier": json_number(multiplier_number(outcome.multiplier)),
            "balance": table.balance,
            "view": outcome.view,
            "status": outcome.status,
        }
    )


def _first(messages: Any) -> str:
    while isinstance(messages, dict | list) and messages:
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


def _play(table: Table, bet: Decimal) -> Round | SimError:
    """One round through the domain; a refused or failed round comes back as its error."""
    started = time.perf_counter()
    code = ResultCode.OK
    try:
        return table.world.rounds.play(table.session, bet)
    except SimError as exc:
        code = exc.code
        return exc
    finally:
        # The session as the round left it (its figures, its recent rounds, ended by a kick).
        table.session = table.world.store.session(table.session.gplay_id) or table.session
        log.info(
            "agent=%s path=/play/spin gplay_id=%d code=%d ms=%.1f",
            table.agent.name,
            table.session.gplay_id,
            code,
            (time.perf_counter() - started) * 1000,
        )


def _refunded_round_id(table: Table, error: SimError) -> str | None:
    """The round a :class:`RoundFailed` refunded: the session's latest, recorded as ``refunded``."""
    if not isinstance(error, RoundFailed):
        return None
    recent = table.recent()
    return recent[0].round_id if recent and recent[0].status == RoundStatus.REFUNDED else None
