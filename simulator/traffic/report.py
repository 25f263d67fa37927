"""A traffic run's report: the figures ``GET /control/traffic/<id>`` answers (control-api.md)."""

from __future__ import annotations

from typing import Any

from .run import TrafficRun


def _time(moment) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def report_of(run: TrafficRun) -> dict[str, Any]:
    prepared, plan = run.prepared, run.plan
    elapsed = run.elapsed_s()
    figures = run.figures.snapshot()
    attempted = figures["rounds"]["attempted"]
    # N paced rounds cover N intervals: the first starts at 0, so N / elapsed alone reads high early on
    span = max(elapsed, attempted / plan.rounds_per_second)
    figures["money"]["withdrawn"] = run.withdrawn
    figures["callbacks"]["complete"] = run.collector.complete if run.collector else True
    return {
        "id": run.run_id,
        "agent": prepared.agent.name,
        "mode": prepared.agent.mode,
        "state": run.state,
        "phase": run.phase,
        "stop_reason": run.stop_reason,
        "error": run.error,
        "started": _time(run.started_at),
        "ended": _time(run.ended_at),
        "elapsed_s": round(elapsed, 3),
        "duration_s": plan.duration_s,
        "players": plan.players,
        "players_ready": sum(1 for p in run.players if p.session is not None),
        "players_retired": sum(1 for p in run.players if p.retired),
        "accounts": len(set(prepared.names)),
        "game": {"provider_id": prepared.game.provider_id, "game_code": prepared.game.game_code},
        "bet": prepared.bet,
        "rate": {
            "target": plan.rounds_per_second,
            "achieved": round(attempted / span, 3) if span > 0 else 0.0,
        },
        **figures,
        "pending_retries": run.pending_retries,
        "reconciliation": run.reconciliation or {"ok": None, "checks": [], "problems": []},
        "notes": list(prepared.notes),
    }
