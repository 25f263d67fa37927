"""The figures behind the dashboard: play over time, RTP per agent and per game, points over time.

Play over time comes from the round statistics (``Store.round_stats_of``, kept 90
days): every stake and win, promotions included, refunded rounds left out as in
``statistics/user`` (spec 5.23).  GGR is the platform's gross gaming revenue:
stakes minus wins.  Realised RTP comes from the rounds (``Store.rounds_of``, kept
30 days), paid rounds only, so it compares with the RTP setting.  Points over time come
from the point transactions (grants, recalls, issuance); deposits and seamless
play move points between those marks (spec 1.2, OP-3).

A realised RTP alone misleads: 61 % after 265 slot rounds is what a working
engine gives now and then.  Each RTP row therefore carries its round count and
the range the realised RTP of that many rounds falls in 95 % of the time, from
the pay tables' variance (:class:`PayTables`), so the page can say "too few
rounds" instead of leaving a reader to suspect the engine.

Store reads: ``round_stats_of``, ``rounds_of``, ``all_agents`` and
``all_point_transactions``; nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from ..domain.enums import AgentKind, RoundStatus
from ..domain.models import Agent, Round, RoundStat
from ..domain.rtp import DECK_SIZE, RtpEngine
from ..domain.store import Store
from ..money import ZERO

#: Bucket sizes tried in order; the first giving at most ``MAX_BUCKETS`` buckets wins.
BUCKET_SIZES = (
    timedelta(seconds=1),
    timedelta(seconds=5),
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=7),
)
MAX_BUCKETS = 36
#: A chart shows at least this many buckets, so a burst of play is not one wide bar.
MIN_BUCKETS = 12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOP_GAMES = 12
#: Two-sided 95 % quantile of the normal distribution.
Z95 = 1.959964
#: A 95 % range wider than this many percentage points either side says "too few rounds".
TOO_FEW_HALF_WIDTH = 5.0


@dataclass
class Totals:
    rounds: int = 0
    bet: Decimal = ZERO
    win: Decimal = ZERO

    def add(self, bet: Decimal, win: Decimal) -> None:
        self.rounds += 1
        self.bet += bet
        self.win += win

    @property
    def ggr(self) -> Decimal:
        return self.bet - self.win

    @property
    def rtp(self) -> float | None:
        """Realised RTP in percent; None before the first stake."""
        return float(self.win / self.bet * 100) if self.bet else None


@dataclass
class Bucket:
    start: datetime
    totals: Totals = field(default_factory=Totals)


@dataclass
class Stream:
    """The rounds of one RTP deck (agent, game, RTP, max-win cap) in a row's figures."""

    variance: float
    rounds: int = 0
    squares: float = 0.0  # sum of the squared stakes


@dataclass
class RtpTotals(Totals):
    """Totals of the rounds that count for the RTP, and how far chance alone moves their RTP."""

    streams: dict[tuple, Stream] = field(default_factory=dict)

    def add_round(self, bet: Decimal, win: Decimal, stream: tuple, variance: float) -> None:
        self.add(bet, win)
        kept = self.streams.setdefault(stream, Stream(variance))
        kept.rounds += 1
        kept.squares += float(bet) ** 2

    def half_width(self) -> float | None:
        """Half the 95 % range of the realised RTP, in percentage points; None before a stake.

        Outcomes are dealt from balanced decks of ``DECK_SIZE`` (:mod:`simulator.domain.rtp`):
        whole decks pay exactly the target, so only the partial decks at either end of a
        stream's rounds vary.  Their variance is at most that of ``DECK_SIZE / 2``
        independent rounds, so each stream counts as ``min(n, DECK_SIZE / 2)`` independent
        rounds of its pay table's variance - exact for few rounds, a bound for many.  (On
        Redis each worker deals its own deck, so the range there is narrower than the truth.)
        """
        if not self.bet:
            return None
        spread = sum(
            s.variance * s.squares * min(1.0, DECK_SIZE / 2 / s.rounds) for s in self.streams.values()
        )
        return Z95 * math.sqrt(spread) / float(self.bet) * 100

    def band(self, target: float) -> tuple[float, float] | None:
        """The 95 % range around ``target`` (in %), never below 0."""
        half = self.half_width()
        return None if half is None else (max(0.0, target - half), target + half)

    def verdict(self, target: float) -> str:
        """``on target``, ``too few rounds`` (inside a wide range) or ``outside the range``; "" unplayed."""
        band, realised = self.band(target), self.rtp
        if band is None or realised is None:
            return ""
        if not band[0] <= realised <= band[1]:
            return "outside the range"
        return "too few rounds" if (band[1] - target) > TOO_FEW_HALF_WIDTH else "on target"


#: ``(stream key, variance of the win per unit stake)`` of a round's pay table.
Spread = Callable[[Agent, Round], tuple[tuple, float]]


class PayTables:
    """The pay table each round was dealt from, as the engine builds it (:meth:`RtpEngine.table`).

    The table depends on the agent's RTP and its max-win cap relative to the stake, as
    in ``Rounds._outcome``; a launch with a lower ``rtp`` is not recorded on the round,
    so the agent's setting stands for it, as it does for the target.
    """

    def __init__(self, engine: RtpEngine) -> None:
        self._engine = engine
        self._variances: dict[tuple, float] = {}

    def __call__(self, agent: Agent, round_: Round) -> tuple[tuple, float]:
        settings = agent.settings
        cap = Fraction(settings.max_win / round_.bet) if settings.max_win > 0 and round_.bet > 0 else None
        key = (agent.agent_id, round_.provider_id, round_.game_code, round_.category, settings.rtp, cap)
        variance = self._variances.get(key)
        if variance is None:
            table = self._engine.table(*key[1:5], cap)
            variance = self._variances[key] = float(table.variance())
        return key, variance


@dataclass
class AgentRtp:
    agent: Agent
    target: Decimal
    totals: RtpTotals


@dataclass
class GameRtp:
    provider_id: int
    game_code: str
    game_name: str
    provider_name: str
    target: float
    totals: RtpTotals


def _stats(store: Store, agents: Sequence[Agent]) -> list[tuple[Agent, list[RoundStat]]]:
    return [(agent, store.round_stats_of(agent.agent_id)) for agent in agents]


def bucket_size(first: datetime, last: datetime) -> timedelta:
    """The smallest bucket that spreads the activity from ``first`` to ``last`` over at most
    ``MAX_BUCKETS`` buckets."""
    span = last - first
    return next((size for size in BUCKET_SIZES if span / size <= MAX_BUCKETS - 2), BUCKET_SIZES[-1])


def _floor(moment: datetime, size: timedelta) -> datetime:
    return EPOCH + ((moment - EPOCH) // size) * size


def play_over_time(store: Store, agents: Sequence[Agent], now: datetime) -> tuple[timedelta, list[Bucket]]:
    """Stakes and wins of settled rounds in equal time buckets over the activity.

    The axis fits the rounds, from the first to the last, not to ``now``: a burst of
    play long ago (or a clock moved days ahead) fills the chart instead of being one
    bar at its edge.  Fewer than ``MIN_BUCKETS`` buckets are padded, half before the
    first round and half after the last (never past ``now``).
    """
    stats = [s for _, rows in _stats(store, agents) for s in rows if not s.refunded]
    if not stats:
        return BUCKET_SIZES[0], []
    first = min(s.created_at for s in stats)
    last = max(s.created_at for s in stats)
    size = bucket_size(first, last)
    start, end = _floor(first, size), _floor(last, size)
    missing = MIN_BUCKETS - (int((end - start) / size) + 1)
    if missing > 0:
        after = max(0, min(missing // 2, int((_floor(max(now, last), size) - end) / size)))
        start -= (missing - after) * size
        end += after * size
    count = int((end - start) / size) + 1
    buckets = [Bucket(start + i * size) for i in range(count)]
    for stat in stats:
        buckets[int((stat.created_at - start) / size)].totals.add(stat.bet, stat.win)
    return size, buckets


def rtp_per_agent(store: Store, agents: Sequence[Agent], spread: Spread) -> list[AgentRtp]:
    """Target (the agent's RTP setting) and realised RTP of every agent with rounds or of kind agent."""
    totals = {agent.agent_id: RtpTotals() for agent in agents}
    for agent, round_ in _rounds(store, agents):
        if counts_for_rtp(round_):
            totals[agent.agent_id].add_round(round_.bet, round_.win, *spread(agent, round_))
    return [
        AgentRtp(agent, agent.settings.rtp, totals[agent.agent_id])
        for agent in agents
        if totals[agent.agent_id].rounds or agent.kind == AgentKind.AGENT
    ]


def counts_for_rtp(round_: Round) -> bool:
    """Settled paid rounds: free rounds (spec 9) and bonus-call payouts (spec 8) are promotions the
    platform steers outside the RTP, and a refunded round has no outcome."""
    return (
        round_.status == RoundStatus.SETTLED and not round_.free and not round_.fr_id and not round_.call_id
    )


def _rounds(store: Store, agents: Sequence[Agent]) -> Iterable[tuple[Agent, Round]]:
    for agent in agents:
        for round_ in store.rounds_of(agent.agent_id):
            yield agent, round_


def rtp_per_game(
    store: Store, catalogue, agents: Sequence[Agent], spread: Spread, top: int = TOP_GAMES
) -> list[GameRtp]:
    """Rounds that count for the RTP per game, the ``top`` games by stake.

    The target is the stake-weighted RTP setting of the agents that played the game.
    """
    totals: dict[tuple[int, str], RtpTotals] = {}
    weighted: dict[tuple[int, str], Decimal] = {}
    for agent, round_ in _rounds(store, agents):
        if not counts_for_rtp(round_):
            continue
        key = (round_.provider_id, round_.game_code)
        totals.setdefault(key, RtpTotals()).add_round(round_.bet, round_.win, *spread(agent, round_))
        weighted[key] = weighted.get(key, ZERO) + round_.bet * agent.settings.rtp
    ranked = sorted(totals.items(), key=lambda item: item[1].bet, reverse=True)[:top]
    result = []
    for (provider_id, game_code), game_totals in ranked:
        game = catalogue.game(provider_id, game_code)
        provider = catalogue.provider(provider_id)
        target = float(weighted[(provider_id, game_code)] / game_totals.bet) if game_totals.bet else 0.0
        result.append(
            GameRtp(
                provider_id,
                game_code,
                game.game_name if game else game_code,
                provider.provider_name if provider else str(provider_id),
                target,
                game_totals,
            )
        )
    return result


def points_over_time(
    store: Store, agent: Agent, now: datetime, amount: Callable[[Decimal], str]
) -> list[tuple[datetime, Decimal, str]]:
    """``(instant, points after, what happened)``: none at creation, then each grant, recall or
    issue, then the points now; ``amount`` writes the moved points in the agent's currency."""
    names = {a.agent_id: a.name for a in store.all_agents()}
    marks: list[tuple[datetime, Decimal, str]] = [(agent.created_at, ZERO, "created")]
    for ptx in store.all_point_transactions():
        if ptx.to_agent_id == agent.agent_id:
            source = names.get(ptx.from_agent_id, "") if ptx.from_agent_id else ""
            marks.append(
                (ptx.created_at, ptx.to_points, f"{ptx.kind} +{amount(ptx.amount)} {source}".rstrip())
            )
        elif ptx.from_agent_id == agent.agent_id and ptx.from_points is not None:
            target = names.get(ptx.to_agent_id, "")
            marks.append((ptx.created_at, ptx.from_points, f"{ptx.kind} -{amount(ptx.amount)} {target}"))
    marks.append((now, agent.points, "now"))
    return marks
