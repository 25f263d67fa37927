"""Chart geometry for the back-office dashboard, drawn as inline SVG by the templates.

Nothing is fetched from the network and no script draws anything: this module
turns numbers into rectangles, polylines and axis ticks in a fixed view box,
and ``bo_charts.html`` writes them out as SVG elements (the page's CSP allows no
inline style, so colours come from CSS classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

WIDTH, HEIGHT = 960, 280
PAIRED_WIDTH = 480
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 12, 14, 40


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Line:
    points: str
    css: str
    title: str


@dataclass
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    dots: list[tuple[float, float, str, str]] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    zero: float | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)


def compact(value: float) -> str:
    """``1234567`` -> ``1.23M``: short axis labels."""
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}" if size else "0"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``[low, high]``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _frame(width: int = WIDTH, height: int = HEIGHT) -> Chart:
    return Chart(width, height, MARGIN_LEFT, width - MARGIN_RIGHT, MARGIN_TOP, height - MARGIN_BOTTOM)


def bars_and_line(
    labels: Sequence[str],
    bars: Sequence[tuple[str, str, Sequence[float]]],
    line: tuple[str, str, Sequence[float]] | None,
    titles: Sequence[str] = (),
    value_text: Callable[[float], str] = lambda value: f"{value:,.2f}",
) -> Chart:
    """Grouped bars per label (``(name, css class, values)`` each) and an optional line.

    The y axis always includes 0, so a negative line (a GGR loss) dips below it.
    ``value_text`` writes a value in the tooltips (money: in its currency's precision).
    """
    chart = _frame()
    values = [v for _, _, series in bars for v in series] + (list(line[2]) if line else [])
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]) or 1.0)
    low, high = ticks[0], ticks[-1]
    span = chart.bottom - chart.top

    def y_of(value: float) -> float:
        return chart.bottom - (value - low) / (high - low) * span

    chart.y_ticks = [Tick(y_of(t), compact(t)) for t in ticks]
    chart.zero = y_of(0.0)
    slot = (chart.right - chart.left) / max(len(labels), 1)
    bar_width = slot * 0.8 / max(len(bars), 1)
    for index, label in enumerate(labels):
        x0 = chart.left + index * slot + slot * 0.1
        tip = titles[index] if index < len(titles) else label
        for position, (name, css, series) in enumerate(bars):
            value = series[index]
            top, base = y_of(max(value, 0.0)), y_of(min(value, 0.0))
            title = f"{tip} - {name}: {value_text(value)}"
            chart.rects.append(Rect(x0 + position * bar_width, top, bar_width * 0.92, base - top, css, title))
    if line:
        name, css, series = line
        points = [(chart.left + (i + 0.5) * slot, y_of(v)) for i, v in enumerate(series)]
        chart.lines.append(Line(" ".join(f"{x:.1f},{y:.1f}" for x, y in points), css, name))
        chart.dots = [
            (x, y, css, f"{titles[i] if i < len(titles) else labels[i]} - {name}: {value_text(series[i])}")
            for i, (x, y) in enumerate(points)
        ]
    every = max(1, math.ceil(len(labels) / 8))
    chart.x_ticks = [
        Tick(chart.left + (i + 0.5) * slot, label) for i, label in enumerate(labels) if i % every == 0
    ]
    chart.legend = [(css, name) for name, css, _ in bars] + ([(line[1], line[0])] if line else [])
    return chart


def paired_bars(
    rows: Sequence[tuple[str, float, float | None, tuple[float, float] | None]], names: tuple[str, str]
) -> Chart:
    """Horizontal target/realised bars per row (percentages), with a 100 % guide.

    Each row is ``(label, target, realised, band)``; ``band`` is the 95 % range of the
    realised RTP for the row's rounds, drawn as a light band behind the realised bar,
    so a realised bar ending inside it reads as chance.
    Realised values above 200 % (a few lucky rounds) are drawn at 200 % and say so.
    """
    row_height = 30
    chart = _frame(PAIRED_WIDTH, MARGIN_TOP + MARGIN_BOTTOM + row_height * max(len(rows), 1))
    chart.left, chart.right = 170, PAIRED_WIDTH - 24
    values = [v for _, target, realised, _ in rows for v in (target, realised) if v is not None]
    high = min(max([100.0, *values]), 200.0)
    ticks = nice_ticks(0.0, high, 5)
    high = ticks[-1]

    def x_of(value: float) -> float:
        return chart.left + min(value, high) / high * (chart.right - chart.left)

    chart.x_ticks = [Tick(x_of(t), f"{t:g}%") for t in ticks]
    for index, (label, target, realised, band) in enumerate(rows):
        top = chart.top + index * row_height
        chart.y_ticks.append(Tick(top + row_height / 2, label))
        chart.rects.append(
            Rect(
                chart.left,
                top + 4,
                x_of(target) - chart.left,
                10,
                "target",
                f"{label}: {names[0]} {target:.2f}%",
            )
        )
        if band is not None:
            low, upper = band
            cut = " (cut at the axis end)" if upper > high else ""
            title = f"{label}: 95% range {low:.1f}% to {upper:.1f}%{cut}"
            chart.rects.append(
                Rect(x_of(low), top + 13, max(x_of(upper) - x_of(low), 1.0), 14, "band", title)
            )
        if realised is not None:
            clipped = " (bar cut at the axis end)" if realised > high else ""
            title = f"{label}: {names[1]} {realised:.2f}%{clipped}"
            chart.rects.append(Rect(chart.left, top + 15, x_of(realised) - chart.left, 10, "realised", title))
    chart.zero = x_of(100.0)
    chart.legend = [("target", names[0]), ("realised", names[1])]
    if any(band is not None for *_, band in rows):
        chart.legend.append(("band", "95% range"))
    return chart


def step_sparkline(
    points: Sequence[tuple[datetime, float, str]], width: int = 300, height: int = 48
) -> Chart:
    """A step line of a value after each change, one step per change (``(instant, value, title)``).

    Changes are spaced evenly rather than by time: simulated histories crowd most
    changes into the first second (fixtures), which a time axis would hide.
    """
    chart = Chart(width, height, 4, width - 4, 5, height - 5)
    if not points:
        return chart
    values = [v for _, v, _ in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    step = (chart.right - chart.left) / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return chart.bottom - (value - low) / (high - low) * (chart.bottom - chart.top)

    coords: list[tuple[float, float]] = []
    for index, (_, value, _) in enumerate(points):
        x, y = chart.left + index * step, y_of(value)
        if coords:
            coords.append((x, coords[-1][1]))
        coords.append((x, y))
    chart.lines.append(Line(" ".join(f"{x:.1f},{y:.1f}" for x, y in coords), "points", "points"))
    chart.dots = [(chart.left + i * step, y_of(v), "points", title) for i, (_, v, title) in enumerate(points)]
    return chart
