"""The text forms of a traffic report: a one-line progress and the final report.

They read only the JSON report, so the command line prints them from what the
HTTP API answered, without importing the simulator's domain.
"""

from __future__ import annotations

from typing import Any

from ..money import json_number


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(json_number(value)) if not isinstance(value, str) else value


def progress_line(report: dict[str, Any]) -> str:
    """``[run 3 play 12.0s] rounds 240 (20.0/s of 20) refused 0 errors 0 p99 4.1 ms``."""
    rounds, rate = report["rounds"], report["rate"]
    p99 = report["wallet_latency_ms"]["p99"]
    latency = f" p99 {_num(p99)} ms" if p99 is not None else ""
    return (
        f"[run {report['id']} {report['phase']} {report['elapsed_s']:.1f}s] "
        f"rounds {rounds['attempted']} ({rate['achieved']:.1f}/s of {_num(rate['target'])}) "
        f"refused {sum(rounds['refused'].values())} errors {rounds['errors']}{latency}"
    )


def format_report(report: dict[str, Any]) -> str:
    rounds, money, rate = report["rounds"], report["money"], report["rate"]
    latency = report["wallet_latency_ms"]
    lines = [
        f"traffic run {report['id']} on agent {report['agent']} ({report['mode']}): {report['state']}"
        + (f" ({report['stop_reason']})" if report["stop_reason"] else ""),
    ]
    if report["error"]:
        lines.append(f"  error: {report['error']}")
    game = report["game"]
    lines += [
        f"  players      {report['players_ready']} of {report['players']} ready "
        f"on {report['accounts']} account{'' if report['accounts'] == 1 else 's'}, "
        f"game {game['provider_id']}:{game['game_code']}, bet {_num(report['bet'])}",
        f"  elapsed      {report['elapsed_s']:.1f} s of {_num(report['duration_s'])} s",
        f"  rate         {rate['achieved']:.2f} rounds/s achieved, target {_num(rate['target'])}",
        f"  rounds       {rounds['attempted']} attempted: {rounds['settled']} settled, "
        f"{rounds['refunded']} refunded, {sum(rounds['refused'].values())} refused, "
        f"{rounds['errors']} errors, {rounds['win_pending']} win pending, {rounds['win_error']} win error",
    ]
    if rounds["refused"]:
        lines.append("  refused      " + ", ".join(f"{k} {v}" for k, v in rounds["refused"].items()))
    lines.append(
        f"  money        bets {_num(money['bets'])}, wins {_num(money['wins'])}, "
        f"refunds {_num(money['refunds'])}"
        + (
            f", deposited {_num(money['deposited'])}, withdrawn {_num(money['withdrawn'])}"
            if money["deposited"]
            else ""
        )
    )
    callbacks = report["callbacks"]
    if callbacks["total"]:
        by_command = "; ".join(
            f"{command} " + " ".join(f"{outcome} {n}" for outcome, n in outcomes.items())
            for command, outcomes in callbacks["by_command"].items()
        )
        lines.append(f"  callbacks    {callbacks['total']}: {by_command}")
        if not callbacks["complete"]:
            lines.append("               (the callback log turned over between reads: figures are partial)")
        lines.append(
            f"  wallet ms    p50 {_num(latency['p50'])}  p90 {_num(latency['p90'])}  "
            f"p99 {_num(latency['p99'])}  max {_num(latency['max'])}"
        )
    elif report["mode"] == "transfer":
        lines.append("  callbacks    none (transfer mode: the balance is on the platform)")
    else:
        lines.append("  callbacks    none")
    lines.append(f"  retries left {report['pending_retries']}")
    for sample in report["errors"]:
        lines.append(f"  error sample {sample}")
    reconciliation = report["reconciliation"]
    verdict = {True: "OK", False: "FAILED", None: "not done yet"}[reconciliation["ok"]]
    if reconciliation["ok"] is None and report["state"] in ("done", "failed"):
        verdict = "not done (the run failed before it could reconcile)"
    lines.append(f"reconciliation: {verdict}")
    for check in reconciliation["checks"]:
        mark = "skip" if check.get("skipped") else ("ok  " if check["ok"] else "FAIL")
        lines.append(f"  [{mark}] {check['name']}: {check['detail']}")
        for problem in check.get("problems", []):
            lines.append(f"         - {problem}")
    for note in report["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"
