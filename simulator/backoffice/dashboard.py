"""The figures behind the dashboard: play over time, RTP per agent and per game, points over time.

Play over time comes from the round statistics (``store.round_stats``, kept 90
days): every stake and win, promotions included, refunded rounds left out as in
``statistics/user`` (spec 5.23).  GGR is the platform's gross gaming revenue:
stakes minus wins.  Realised RTP comes from the rounds (``store.rounds``, kept
30 days), paid rounds only, so it compares with the RTP setting.  Points over time come
from the point transactions (grants, recalls, issuance); deposits and seamless
play move points between those marks (spec 1.2, OP-3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..domain.models import Agent, Round, RoundStat
from ..money import ZERO
from ..store import MemoryStore

#: Bucket sizes tried in order; the first giving at most ``MAX_BUCKETS`` buckets wins.
BUCKET_SIZES = (
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
class AgentRtp:
    agent: Agent
    target: Decimal
    totals: Totals


@dataclass
class GameRtp:
    provider_id: int
    game_code: str
    game_name: str
    provider_name: str
    target: float
    totals: Totals


def _stats(store: MemoryStore, agents: Sequence[Agent]) -> list[tuple[Agent, list[RoundStat]]]:
    result = []
    for agent in agents:
        with store.locked(agent.agent_id):
            result.append((agent, list(store.round_stats.get(agent.agent_id, ()))))
    return result


def bucket_size(first: datetime, now: datetime) -> timedelta:
    span = max(now - first, timedelta(minutes=1))
    return next((size for size in BUCKET_SIZES if span / size <= MAX_BUCKETS), BUCKET_SIZES[-1])


def _floor(moment: datetime, size: timedelta) -> datetime:
    return EPOCH + ((moment - EPOCH) // size) * size


def play_over_time(
    store: MemoryStore, agents: Sequence[Agent], now: datetime
) -> tuple[timedelta, list[Bucket]]:
    """Stakes and wins of settled rounds in equal time buckets from the first round to now."""
    stats = [s for _, rows in _stats(store, agents) for s in rows if not s.refunded]
    if not stats:
        return BUCKET_SIZES[0], []
    first = min(s.created_at for s in stats)
    size = bucket_size(first, now)
    start = min(_floor(first, size), _floor(now, size) - (MIN_BUCKETS - 1) * size)
    count = int((_floor(max(now, first), size) - start) / size) + 1
    buckets = [Bucket(start + i * size) for i in range(count)]
    for stat in stats:
        index = min(int((stat.created_at - start) / size), count - 1)
        buckets[index].totals.add(stat.bet, stat.win)
    return size, buckets


def rtp_per_agent(store: MemoryStore, agents: Sequence[Agent]) -> list[AgentRtp]:
    """Target (the agent's RTP setting) and realised RTP of every agent with rounds or of kind agent."""
    totals = {agent.agent_id: Totals() for agent in agents}
    for agent, round_ in _rounds(store, agents):
        if counts_for_rtp(round_):
            totals[agent.agent_id].add(round_.bet, round_.win)
    return [
        AgentRtp(agent, agent.settings.rtp, totals[agent.agent_id])
        for agent in agents
        if totals[agent.agent_id].rounds or agent.kind == "agent"
    ]


def counts_for_rtp(round_: Round) -> bool:
    """Settled paid rounds: free rounds (spec 9) and bonus-call payouts (spec 8) are promotions the
    platform steers outside the RTP, and a refunded round has no outcome."""
    return round_.status == "settled" and not round_.free and not round_.fr_id and not round_.call_id


def _rounds(store: MemoryStore, agents: Sequence[Agent]) -> Iterable[tuple[Agent, Round]]:
    for agent in agents:
        with store.locked(agent.agent_id):
            rounds = list(store.rounds.get(agent.agent_id, {}).values())
        for round_ in rounds:
            yield agent, round_


def rtp_per_game(
    store: MemoryStore, catalogue, agents: Sequence[Agent], top: int = TOP_GAMES
) -> list[GameRtp]:
    """Rounds that count for the RTP per game, the ``top`` games by stake.

    The target is the stake-weighted RTP setting of the agents that played the game.
    """
    totals: dict[tuple[int, str], Totals] = {}
    weighted: dict[tuple[int, str], Decimal] = {}
    for agent, round_ in _rounds(store, agents):
        if not counts_for_rtp(round_):
            continue
        key = (round_.provider_id, round_.game_code)
        totals.setdefault(key, Totals()).add(round_.bet, round_.win)
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


def points_over_time(store: MemoryStore, agent: Agent, now: datetime) -> list[tuple[datetime, Decimal, str]]:
    """``(instant, points after, what happened)``: none at creation, then each grant, recall or
    issue, then the points now."""
    names = {a.agent_id: a.name for a in store.agents.values()}
    marks: list[tuple[datetime, Decimal, str]] = [(agent.created_at, ZERO, "created")]
    for ptx in list(store.point_transactions):
        if ptx.to_agent_id == agent.agent_id:
            source = names.get(ptx.from_agent_id, "") if ptx.from_agent_id else ""
            marks.append((ptx.created_at, ptx.to_points, f"{ptx.kind} +{ptx.amount:,f} {source}".rstrip()))
        elif ptx.from_agent_id == agent.agent_id and ptx.from_points is not None:
            target = names.get(ptx.to_agent_id, "")
            marks.append((ptx.created_at, ptx.from_points, f"{ptx.kind} -{ptx.amount:,f} {target}"))
    marks.append((now, agent.points, "now"))
    return marks
