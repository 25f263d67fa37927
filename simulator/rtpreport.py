"""``rtp-report``: play many rounds through the RTP engine and show how the RTP converges (spec 1.6).

The spins are drawn exactly as :mod:`simulator.domain.rounds` draws them - the
same engine, stream key ``(agent_id,)``, RTP and max-win cap, and the same
settlement (stake x multiplier rounded half-even to 4 places, capped by the
agent's max win) - so with the simulator's seed the report deals the very
outcomes an agent's first rounds of that game get after a reset.  No Flask here.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

from .domain.rtp import DECK_SIZE, PayTable, RtpEngine

FOUR_PLACES = Decimal("0.0001")
#: Amounts are kept as integers of 1/10,000 so that sums are exact and fast.
UNITS = 10_000
#: Spins per batch of the confidence interval: one whole deck.
BATCH_SPINS = DECK_SIZE
#: Half-width of the band drawn around the target RTP, in points.
BAND_POINTS = 0.5
#: Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)  # fmt: skip


@dataclass(frozen=True)
class ReportConfig:
    rtp: Decimal
    spins: int
    seed: int
    category: str = "Slots"
    provider_id: int = 1
    game_code: str = "vs20fruitsw"
    agent_id: int = 3
    stake: Decimal = Decimal(100)
    max_win: Decimal = Decimal(0)


@dataclass
class ReportResult:
    config: ReportConfig
    table: PayTable
    spins: int = 0
    hits: int = 0
    won_units: int = 0
    max_multiplier: Fraction = Fraction(0)
    #: Units won in each whole batch of ``BATCH_SPINS`` spins.
    batch_won_units: list[int] = field(default_factory=list)
    #: ``(spins, running RTP in %)`` at log-spaced points, for the chart.
    checkpoints: list[tuple[int, float]] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def staked(self) -> Decimal:
        return self.config.stake * self.spins

    @property
    def won(self) -> Decimal:
        return Decimal(self.won_units) / UNITS

    @property
    def realised_rtp(self) -> Fraction:
        """Total won over total staked, as a fraction (0.95 for 95%)."""
        return Fraction(self.won_units, _units(self.config.stake) * self.spins)

    @property
    def hit_rate(self) -> Fraction:
        return Fraction(self.hits, self.spins)

    def confidence_interval(self) -> tuple[float, float, float] | None:
        """Batch-means 95% interval of the RTP in %: ``(centre, low, high)``; None under 2 batches.

        Spins within a deck are dependent (each deck pays the RTP), so the
        i.i.d. formula does not apply; the means of whole-deck batches are close
        to independent, and Student's t over them gives the interval.
        """
        batches = len(self.batch_won_units)
        if batches < 2:
            return None
        per_batch = _units(self.config.stake) * BATCH_SPINS
        rtps = [100 * w / per_batch for w in self.batch_won_units]
        centre = math.fsum(rtps) / batches
        variance = math.fsum((r - centre) ** 2 for r in rtps) / (batches - 1)
        half = t_critical(batches - 1) * math.sqrt(variance / batches)
        return centre, centre - half, centre + half


def t_critical(df: int) -> float:
    """Student's t 97.5% quantile; a Cornish-Fisher expansion beyond the table."""
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def _units(amount: Decimal) -> int:
    return int(amount * UNITS)


def engine_cap(stake: Decimal, max_win: Decimal) -> Fraction | None:
    """The cap the round hands the engine: the agent's max win as a multiple of the stake."""
    return Fraction(max_win / stake) if max_win > 0 else None


def settle_win(stake: Decimal, multiplier: Fraction, max_win: Decimal) -> Decimal:
    """What a round pays, as ``Rounds._settle`` computes it."""
    win = (stake * Decimal(multiplier.numerator) / Decimal(multiplier.denominator)).quantize(
        FOUR_PLACES, rounding=ROUND_HALF_EVEN
    )
    return min(win, max_win) if max_win > 0 else win


def catalogue_category(fixtures_dir: Path, provider_id: int, game_code: str) -> str | None:
    """The game's category in a fixture catalogue, if the game is there."""
    try:
        games = json.loads((fixtures_dir / "catalogue.json").read_text(encoding="utf-8"))["games"]
    except (OSError, ValueError, KeyError):
        return None
    for game in games:
        if game.get("provider_id") == provider_id and game.get("game_code") == game_code:
            return game.get("category")
    return None


def simulate(
    config: ReportConfig, progress: Callable[[int, int], None] | None = None, progress_every: int = 4096
) -> ReportResult:
    """Play ``config.spins`` rounds; ``progress(spins, won_units)`` is called every ``progress_every``."""
    engine = RtpEngine(config.seed)
    cap = engine_cap(config.stake, config.max_win)
    args = (config.provider_id, config.game_code, config.category, config.rtp, cap)
    result = ReportResult(config, engine.table(*args))
    deck = engine.deck((config.agent_id,), *args)
    outcomes = deck.table.outcomes
    # Per outcome index (the last one is the loss): units won and whether it is a hit.
    units_of = [_units(settle_win(config.stake, o.multiplier, config.max_win)) for o in outcomes] + [0]
    hit_of = [1 if o.multiplier else 0 for o in outcomes] + [0]
    stake_units = _units(config.stake)
    seen: set[int] = set()
    won = hits = batch_start = n = 0
    next_checkpoint = 1
    next_progress = progress_every if progress is not None else config.spins + 1
    started = time.perf_counter()
    # Cards are dealt in runs up to the next event (batch end, checkpoint, progress call),
    # so the per-spin work is C-level sums over the deck's own indices.
    while n < config.spins:
        next_batch = (n // BATCH_SPINS + 1) * BATCH_SPINS
        stop = min(config.spins, next_batch, next_checkpoint, next_progress)
        chunk = deck.deal(stop - n)
        n += len(chunk)
        won += sum(map(units_of.__getitem__, chunk))
        hits += sum(map(hit_of.__getitem__, chunk))
        seen.update(chunk)
        if n % BATCH_SPINS == 0:
            result.batch_won_units.append(won - batch_start)
            batch_start = won
        if n == next_checkpoint or n == config.spins:
            result.checkpoints.append((n, 100 * won / (stake_units * n)))
            next_checkpoint = max(n + 1, math.ceil(n * 1.02))
        if n == next_progress:
            progress(n, won)  # type: ignore[misc]
            next_progress += progress_every
    max_multiplier = max((outcomes[i].multiplier for i in seen if i < len(outcomes)), default=Fraction(0))
    result.elapsed = time.perf_counter() - started
    result.spins, result.hits = config.spins, hits
    result.won_units, result.max_multiplier = won, max_multiplier
    return result


class Progress:
    """One updating line on a terminal: percentage, spins per second, running RTP."""

    def __init__(self, stream: TextIO, total: int, stake: Decimal, interval: float = 0.2) -> None:
        self.stream, self.total, self.interval = stream, total, interval
        self.stake_units = _units(stake)
        self.started = self.last = time.perf_counter()

    def __call__(self, spins: int, won_units: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.interval:
            return
        self.last = now
        rate = spins / max(now - self.started, 1e-9)
        rtp = 100 * won_units / (self.stake_units * spins)
        line = (
            f"{100 * spins / self.total:5.1f}%  {spins:,} spins  {rate:,.0f} spins/s  running RTP {rtp:.4f}%"
        )
        self.stream.write(f"\r{line:<78}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * 78 + "\r")
        self.stream.flush()


def _percent(value: Fraction) -> str:
    """A fraction as an exact percentage when it has a finite decimal form, else to 6 places."""
    scaled = value * 100
    for places in range(9):
        if (scaled * 10**places).denominator == 1:
            return f"{Decimal(scaled.numerator) / Decimal(scaled.denominator):.{places}f}%"
    return f"~{float(scaled):.6f}% ({value.numerator}/{value.denominator})"


def _row(label: str, value: str) -> str:
    return f"  {label:<22}{value}"


def format_report(result: ReportResult, chart: str | None = None) -> str:
    """The printed report: one figure per line, label first."""
    config, table = result.config, result.table
    expected = table.expected_return()
    exact = expected == Fraction(config.rtp) / 100
    cap = engine_cap(config.stake, config.max_win)
    max_win = f"{config.max_win:,} (engine cap {float(cap):g}x the stake)" if cap is not None else "none"
    rate = result.spins / max(result.elapsed, 1e-9)
    hit_rate = float(result.hit_rate) * 100
    lines = [
        f"RTP report: {config.category} game {config.game_code} of provider {config.provider_id}, "
        f"agent {config.agent_id}, seed {config.seed}",
        f"  stake {config.stake:,}, max win {max_win}",
        "",
        _row("Target RTP", f"{config.rtp}%"),
        _row(
            "Pay table expected",
            _percent(expected) + ("  (exact)" if exact else "  (out of reach under the cap)"),
        ),
        _row("Realised RTP", f"{float(result.realised_rtp) * 100:.4f}%"),
    ]
    interval = result.confidence_interval()
    batches = len(result.batch_won_units)
    if interval is None:
        lines.append(_row("95% CI", f"n/a: needs 2 whole batches ({2 * BATCH_SPINS:,} spins)"))
    else:
        centre, low, high = interval
        left_out = result.spins - batches * BATCH_SPINS
        lines += [
            _row("95% CI", f"[{low:.4f}%, {high:.4f}%]  (centre {centre:.4f}%, +/-{high - centre:.4f})"),
            f"    method: batch means of {batches:,} batches of {BATCH_SPINS:,} spins (one whole deck each)",
            f"    and Student's t with {batches - 1} d.f.; spins within a deck are dependent (each deck",
            "    pays the RTP), so the i.i.d. formula would not hold"
            + (f"; the last {left_out:,} spins (a partial deck) are left out" if left_out else ""),
        ]
    lines += [
        _row("Hit rate", f"{hit_rate:.4f}% realised, {float(table.hit_rate()) * 100:.4f}% in the pay table"),
        _row("Spins", f"{result.spins:,}"),
        _row("Total staked", f"{result.staked:,}"),
        _row("Total won", f"{result.won.normalize():,f}"),
        _row("Max win multiplier", f"{float(result.max_multiplier):g}x"),
        _row("Elapsed", f"{result.elapsed:.2f} s ({rate:,.0f} spins/s)"),
    ]
    if chart:
        lines.append(_row("Chart", chart))
    return "\n".join(lines) + "\n"


# -- the convergence chart ---------------------------------------------------------------
WIDTH, HEIGHT = 800, 450
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 60
NICE_STEPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50)


def _y_half_range(points: list[tuple[int, float]], target: float, spins: int) -> float:
    """Half the y range: the deviation over the last decade of spins, between 1 and 10 points.

    Early running RTPs swing far (one jackpot in the first spins); they are clipped at the edge.
    """
    tail = [rtp for n, rtp in points if n >= spins / 10] or [target]
    deviation = max(abs(rtp - target) for rtp in tail) * 1.2
    return min(10.0, max(1.0, deviation))


def _label_spins(n: int) -> str:
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= size:
            return f"{n // size}{suffix}"
    return str(n)


@dataclass(frozen=True)
class _Plot:
    """Maps spins (log scale) and RTP points onto the SVG's plot area."""

    spins: int
    y_low: float
    y_high: float
    width: int = WIDTH - LEFT - RIGHT
    height: int = HEIGHT - TOP - BOTTOM

    def x(self, n: float) -> float:
        return LEFT + self.width * math.log10(n) / math.log10(self.spins)

    def y(self, rtp: float) -> float:
        return TOP + self.height * (self.y_high - rtp) / (self.y_high - self.y_low)


def _y_axis(plot: _Plot) -> list[str]:
    half = (plot.y_high - plot.y_low) / 2
    step = next((s for s in NICE_STEPS if 2 * half / s <= 10), NICE_STEPS[-1])
    out = []
    for k in range(math.ceil(plot.y_low / step - 1e-9), math.floor(plot.y_high / step + 1e-9) + 1):
        y = plot.y(k * step)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot.width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{k * step:g}</text>')
    return out


def _x_axis(plot: _Plot) -> list[str]:
    """Major ticks, grid lines and labels at powers of ten; minor ticks at 2..9 of each decade."""
    out, bottom = [], TOP + plot.height
    for decade in range(len(str(plot.spins))):
        for digit in range(1, 10):
            n = digit * 10**decade
            if n > plot.spins:
                break
            x, major = plot.x(n), digit == 1
            tick = 6 if major else 3
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + tick}" stroke="black"/>')
            if major:
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}" stroke="#e0e0e0"/>')
                out.append(
                    f'<text x="{x:.1f}" y="{bottom + 20}" text-anchor="middle">{_label_spins(n)}</text>'
                )
    return out


def _legend(target: float) -> str:
    return (
        f'<g transform="translate({LEFT + 10} {TOP + 14})">'
        '<rect x="-6" y="-12" width="440" height="24" fill="white" fill-opacity="0.85"/>'
        '<line x1="0" x2="24" y1="0" y2="0" stroke="#1565c0" stroke-width="1.5"/>'
        '<text x="30" y="4">running RTP</text>'
        '<line x1="130" x2="154" y1="0" y2="0" stroke="#2e7d32" stroke-dasharray="6 4" stroke-width="1.5"/>'
        f'<text x="160" y="4">target {target:g}%</text>'
        '<rect x="260" y="-6" width="24" height="12" fill="#2e7d32" fill-opacity="0.15"/>'
        f'<text x="290" y="4">target +/-{BAND_POINTS:g} points</text></g>'
    )


def chart_svg(result: ReportResult) -> str:
    """Running RTP against spins (log x axis), the target line and the +/-0.5-point band."""
    config = result.config
    target = float(config.rtp)
    points = result.checkpoints or [(1, target)]
    spins = max(10, result.spins)
    half = _y_half_range(points, target, spins)
    plot = _Plot(spins, target - half, target + half)
    band_top = plot.y(min(plot.y_high, target + BAND_POINTS))
    band_height = plot.y(max(plot.y_low, target - BAND_POINTS)) - band_top
    path = " ".join(
        f"{'L' if i else 'M'}{plot.x(n):.2f},{plot.y(rtp):.2f}" for i, (n, rtp) in enumerate(points)
    )
    area = f'x="{LEFT}" y="{TOP}" width="{plot.width}" height="{plot.height}"'
    title = f"Running RTP of {config.category} {config.game_code}, seed {config.seed}, {result.spins:,} spins"
    return (
        "\n".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
                f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
                f"<title>{escape(title)}</title>",
                f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
                f'<clipPath id="plot"><rect {area}/></clipPath>',
                f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
                f'<rect id="band" x="{LEFT}" y="{band_top:.1f}" width="{plot.width}" '
                f'height="{band_height:.1f}" fill="#2e7d32" fill-opacity="0.15"/>',
                *_y_axis(plot),
                *_x_axis(plot),
                f'<line id="target" x1="{LEFT}" x2="{LEFT + plot.width}" y1="{plot.y(target):.1f}" '
                f'y2="{plot.y(target):.1f}" stroke="#2e7d32" stroke-dasharray="6 4" stroke-width="1.5"/>',
                f'<path id="running-rtp" d="{path}" fill="none" stroke="#1565c0" stroke-width="1.5" '
                'clip-path="url(#plot)"/>',
                f'<rect {area} fill="none" stroke="black"/>',
                f'<text x="{LEFT + plot.width / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
                "spins (log scale)</text>",
                f'<text transform="translate(18 {TOP + plot.height / 2}) rotate(-90)" text-anchor="middle">'
                "running RTP (%)</text>",
                _legend(target),
                "</svg>",
            ]
        )
        + "\n"
    )


def write_chart(result: ReportResult, path: Path) -> None:
    path.write_text(chart_svg(result), encoding="utf-8")
