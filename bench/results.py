"""Rows of the benchmark table: a figure, its reference from the same run, the ratio and the target.

Targets are reported, never asserted (CONVENTIONS.md): a missed target is a
``met: false`` row in ``bench/results.json``, not a failure of the run.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """What the issue asks of a figure: a bound on the value, or on its ratio to the reference."""

    kind: str  # "min", "max", "ratio_min", "ratio_max", "eq", "gt"
    bound: float
    text: str

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        """True or False when the figure can be judged, None when a needed number is missing."""
        subject = ratio if self.kind.startswith("ratio_") else value
        if subject is None or (isinstance(subject, float) and math.isnan(subject)):
            return None
        if self.kind in ("min", "ratio_min"):
            return subject >= self.bound
        if self.kind in ("max", "ratio_max"):
            return subject <= self.bound
        if self.kind == "eq":
            return subject == self.bound
        if self.kind == "gt":
            return subject > self.bound
        raise ValueError(f"unknown target kind {self.kind!r}")


def at_least(bound: float, unit: str = "") -> Target:
    return Target("min", bound, f">= {format_number(bound, unit)}{_suffix(unit)}")


def at_most(bound: float, unit: str = "") -> Target:
    return Target("max", bound, f"<= {format_number(bound, unit)}{_suffix(unit)}")


def ratio_at_least(bound: float) -> Target:
    return Target("ratio_min", bound, f">= {bound:g} x ref")


def ratio_at_most(bound: float) -> Target:
    return Target("ratio_max", bound, f"<= {bound:g} x ref")


def equals(bound: float) -> Target:
    return Target("eq", bound, f"= {bound:g}")


def above(bound: float) -> Target:
    return Target("gt", bound, f"> {bound:g}")


def _suffix(unit: str) -> str:
    return f" {unit}" if unit else ""


def ratio_of(value: float | None, reference: float | None) -> float | None:
    """``value / reference``; None when either is missing or the reference is 0."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


@dataclass
class Result:
    """One row: ``value`` (in ``unit``) of ``figure``, against ``reference`` measured in the same run."""

    scenario: str
    figure: str
    value: float | None
    unit: str
    reference: str | None = None
    reference_value: float | None = None
    target: Target | None = None
    note: str = ""
    ratio: float | None = field(init=False, default=None)
    met: bool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.ratio = ratio_of(self.value, self.reference_value)
        self.met = self.target.met(self.value, self.ratio) if self.target else None

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["target"] = self.target.text if self.target else None
        row["target_kind"] = self.target.kind if self.target else None
        row["target_bound"] = self.target.bound if self.target else None
        return row


def unavailable(scenario: str, figure: str, unit: str, why: str, target: Target | None = None) -> Result:
    """A row for a figure that could not be measured (a tool missing, a server that did not start)."""
    return Result(scenario, figure, None, unit, target=target, note=f"not available: {why}")


def format_number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    magnitude = abs(value)
    if float(value).is_integer() and magnitude >= 1:
        return f"{value:,.0f}"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _met_text(met: bool | None, target: Target | None) -> str:
    if target is None:
        return ""
    return {True: "yes", False: "NO", None: "?"}[met]


COLUMNS = ("scenario", "figure", "value", "reference", "ref value", "ratio", "target", "met")


def table_rows(results: list[Result]) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        value = format_number(r.value, r.unit) + (f" {r.unit}" if r.unit and r.value is not None else "")
        ref_value = "" if r.reference is None else format_number(r.reference_value, r.unit)
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        rows.append(
            (
                r.scenario,
                r.figure,
                value,
                r.reference or "",
                ref_value,
                ratio,
                r.target.text if r.target else "",
                _met_text(r.met, r.target),
            )
        )
    return rows


def render_table(results: list[Result]) -> str:
    """A plain-text table, one row per result; notes follow underneath, numbered."""
    rows = table_rows(results)
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(COLUMNS)]
    numeric = {2, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(COLUMNS), line(tuple("-" * w for w in widths))]
    notes: list[str] = []
    for result, row in zip(results, rows, strict=True):
        text = line(row)
        if result.note:
            notes.append(result.note)
            text += f"  [{len(notes)}]"
        out.append(text)
    out.extend(f"[{n}] {note}" for n, note in enumerate(notes, 1))
    return "\n".join(out)


def summary_line(results: list[Result]) -> str:
    judged = [r for r in results if r.target is not None]
    met = sum(1 for r in judged if r.met)
    missed = [r for r in judged if r.met is False]
    unknown = sum(1 for r in judged if r.met is None)
    text = f"targets: {met} of {len(judged)} met"
    if missed:
        text += f", {len(missed)} missed"
    if unknown:
        text += f", {unknown} not measured"
    return text


def write_json(path: Path, results: list[Result], meta: dict[str, Any], extra: dict[str, Any]) -> None:
    document = {"meta": meta, "results": [r.to_json() for r in results], **extra}
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
