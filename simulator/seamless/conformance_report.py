"""What a conformance run reports: each callback as sent and answered, each scenario's verdict, the
whole run as text, JSON or JUnit XML (spec 6.12).

Kept apart from the runner (:mod:`simulator.seamless.conformance`), which decides the verdicts;
the CLI, the admin API and the back office's "Callback API testing" page print these.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..money import json_number

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_number, ensure_ascii=False))


@dataclass
class Exchange:
    """One callback as sent and answered."""

    step: str
    command: str
    request: dict[str, Any]
    wrong_token: bool
    http_status: int | None
    reply: str
    result: int | None
    balance: Decimal | None
    problem: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "command": self.command,
            "callback_token": "wrong" if self.wrong_token else "agent's",
            "request": _jsonable(self.request),
            "http_status": self.http_status,
            "reply": self.reply,
            "result": self.result,
            "balance": None if self.balance is None else json_number(self.balance),
            "problem": self.problem,
            "duration_ms": round(self.duration_ms, 3),
        }

    def lines(self) -> list[str]:
        token = "  (wrong Callback-Token)" if self.wrong_token else ""
        request = json.dumps(self.to_dict()["request"], separators=(",", ":"), ensure_ascii=False)
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no HTTP reply"
        lines = [f"[{self.step}] {self.command}{token}", f"  > {request}"]
        lines.append(f"  < {status} {self.reply.strip()}  ({self.duration_ms:.1f} ms)")
        if self.problem:
            lines.append(f"  ! {self.problem}")
        return lines


@dataclass
class ScenarioResult:
    scenario_id: str
    title: str
    spec: str
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def status(self) -> str:
        return FAIL if self.failures else WARN if self.warnings else PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.scenario_id,
            "title": self.title,
            "spec": self.spec,
            "status": self.status,
            "failures": self.failures,
            "warnings": self.warnings,
            "notes": self.notes,
            "duration_ms": round(self.duration_ms, 3),
            "exchanges": [exchange.to_dict() for exchange in self.exchanges],
        }

    def transcript(self) -> str:
        lines = [f"warning: {w}" for w in self.warnings] + [f"note: {n}" for n in self.notes]
        for exchange in self.exchanges:
            lines.extend(exchange.lines())
        return "\n".join(lines)


@dataclass
class Report:
    callback_url: str
    dialect: str
    account: str
    started: str
    duration_ms: float
    scenarios: list[ScenarioResult]

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: sum(s.status == status for s in self.scenarios) for status in (PASS, WARN, FAIL)}
        return {**counts, "total": len(self.scenarios)}

    @property
    def ok(self) -> bool:
        """All scenarios pass; warnings allowed."""
        return not any(s.failures for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "callback_url": self.callback_url,
            "dialect": self.dialect,
            "account": self.account,
            "started": self.started,
            "duration_ms": round(self.duration_ms, 3),
            "counts": self.counts,
            "scenarios": [scenario.to_dict() for scenario in self.scenarios],
        }

    def summary(self, verbose: bool = False) -> str:
        head = f"Callback conformance: {self.callback_url} (dialect {self.dialect}, account {self.account!r})"
        lines = [head, ""]
        for s in self.scenarios:
            lines.append(f"{s.status}  {s.scenario_id:<3} {s.title}  [{s.spec}]")
            lines += [f"      x {f}" for f in s.failures] + [f"      ! {w}" for w in s.warnings]
            if verbose:
                lines += [f"      note: {n}" for n in s.notes]
                lines += [f"      {line}" for e in s.exchanges for line in e.lines()] + [""]
        c = self.counts
        callbacks = sum(len(s.exchanges) for s in self.scenarios)
        lines += [
            "",
            f"{c['total']} scenarios: {c[PASS]} PASS, {c[WARN]} WARN, {c[FAIL]} FAIL "
            f"({callbacks} callbacks in {self.duration_ms / 1000:.2f} s)",
            f"RESULT: {'PASS' if self.ok else 'FAIL'}",
        ]
        return "\n".join(lines) + "\n"

    def junit(self) -> bytes:
        """JUnit XML: one testcase per scenario, the exchanges in ``system-out``."""
        suite = ET.Element(
            "testsuite",
            name="scorpio-play-conformance",
            tests=str(len(self.scenarios)),
            failures=str(self.counts[FAIL]),
            errors="0",
            skipped="0",
            time=f"{self.duration_ms / 1000:.3f}",
            timestamp=self.started[:19],
        )
        for s in self.scenarios:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{self.dialect}",
                name=f"{s.scenario_id} {s.title}",
                time=f"{s.duration_ms / 1000:.3f}",
            )
            if s.failures:
                failure = ET.SubElement(case, "failure", message=_xml_text(s.failures[0]), type="conformance")
                failure.text = _xml_text("\n".join(s.failures))
            ET.SubElement(case, "system-out").text = _xml_text(s.transcript())
        root = ET.Element("testsuites")
        root.append(suite)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_text(text: str) -> str:
    """XML 1.0 cannot carry most control characters; a wallet's reply may contain any."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "?", text)
