"""``python -m simulator rtp-report`` and ``serve``: the simulation, the figures, the chart, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.domain.sessions import LaunchRequest
from simulator.rtpreport import ReportConfig, chart_svg, format_report, settle_win, simulate, t_critical
from tests.conftest import DEMO_USER

REPO = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def config(spins: int = 20_000, **overrides) -> ReportConfig:
    return ReportConfig(rtp=Decimal(95), spins=spins, seed=20260101, **overrides)


@pytest.fixture(scope="module")
def report():
    return simulate(config(25_000))


def test_a_win_is_the_stake_times_the_multiplier_rounded_half_even_to_4_places():
    assert settle_win(Decimal("0.0001"), Fraction(1, 2), Decimal(0)) == Decimal("0.0000")
    assert settle_win(Decimal("0.0003"), Fraction(1, 2), Decimal(0)) == Decimal("0.0002")


def test_a_win_is_capped_by_the_max_win():
    assert settle_win(Decimal(100), Fraction(500), Decimal(1000)) == Decimal(1000)


def test_the_report_honours_the_max_win_cap():
    result = simulate(config(20_000, max_win=Decimal(1000)))
    assert result.max_multiplier == Fraction(10)


def test_the_report_deals_the_outcomes_the_simulator_plays(sim):
    agent = sim.world.hierarchy.get("demo")
    launch = sim.world.sessions.launch(agent, LaunchRequest(DEMO_USER, 1, "vs20fruitsw", 1))
    session = sim.world.sessions.open(launch.token)
    sim.world.ledger.deposit(
        agent, sim.world.store.user(DEMO_USER), Decimal(300 * 100)
    )  # every stake covered
    wins = [sim.world.rounds.play(session, Decimal(100)).win for _ in range(300)]
    result = simulate(config(300, agent_id=agent.agent_id))
    assert (result.won, result.hits) == (sum(wins), sum(1 for w in wins if w > 0))


def test_the_same_seed_gives_the_same_report():
    first, second = simulate(config(12_000)), simulate(config(12_000))
    assert first.checkpoints == second.checkpoints
    assert (first.won_units, first.hits) == (second.won_units, second.hits)


def test_the_confidence_interval_uses_batches_of_whole_decks(report):
    assert len(report.batch_won_units) == 2
    centre, low, high = report.confidence_interval()
    assert low <= centre <= high


def test_there_is_no_confidence_interval_under_two_batches():
    assert simulate(config(19_999)).confidence_interval() is None


def test_t_critical_values_follow_students_t():
    assert (t_critical(1), t_critical(30)) == (12.706, 2.042)
    assert abs(t_critical(99) - 1.9842) < 0.0005


def test_the_report_prints_the_key_figures(report):
    text = format_report(report, "chart.svg")
    for line in (
        "  Target RTP            95%",
        "  Pay table expected    95%  (exact)",
        f"  Realised RTP          {float(report.realised_rtp) * 100:.4f}%",
        "    method: batch means of 2 batches of 10,000 spins (one whole deck each)",
        f"  Hit rate              {float(report.hit_rate) * 100:.4f}% realised, "
        f"{float(report.table.hit_rate()) * 100:.4f}% in the pay table",
        "  Spins                 25,000",
        "  Total staked          2,500,000",
        f"  Total won             {report.won.normalize():,f}",
        f"  Max win multiplier    {float(report.max_multiplier):g}x",
        "  Chart                 chart.svg",
    ):
        assert line in text.splitlines()
    assert "95% CI                [" in text and "spins/s)" in text


def test_the_chart_is_well_formed_svg_with_the_running_rtp_path(report):
    root = ET.fromstring(chart_svg(report))
    path = root.find(f"{SVG}path[@id='running-rtp']")
    assert (root.tag, path.get("d").count("L") + 1) == (f"{SVG}svg", len(report.checkpoints))


def test_the_chart_draws_the_target_line_and_the_band(report):
    root = ET.fromstring(chart_svg(report))
    assert (root.find(f"{SVG}line[@id='target']"), root.find(f"{SVG}rect[@id='band']")) != (None, None)


def test_cli_help_lists_serve_and_rtp_report(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert (exit_.value.code, "serve" in out, "rtp-report" in out) == (0, True, True)


@pytest.mark.parametrize("argv", [["--rtp", "0"], ["--rtp", "100.01"], ["--rtp", "x"], ["--spins", "0"]])
def test_cli_rejects_out_of_range_arguments_with_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["rtp-report", *argv])
    assert (exit_.value.code, "usage:" in capsys.readouterr().err) == (2, True)


def test_serve_execs_the_venv_gunicorn_with_the_repository_config(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "execvp", lambda file, argv: calls.append((file, argv)))
    monkeypatch.setenv("SCORPIO_SIM_BIND", "127.0.0.1:8080")
    main(["serve", "--bind", "127.0.0.1:9999"])
    ((file, argv),) = calls
    expected = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(REPO / "gunicorn.conf.py")]
    assert (file, argv, os.environ["SCORPIO_SIM_BIND"]) == (expected[0], expected, "127.0.0.1:9999")


def report_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulator", "rtp-report", *args]


def test_cli_rtp_report_exits_0_and_writes_the_chart(tmp_path):
    chart = tmp_path / "rtp.svg"
    argv = report_command("--rtp", "95", "--spins", "20000", "--chart", str(chart), "--quiet")
    run = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (run.returncode, "Realised RTP" in run.stdout, ET.parse(chart).getroot().tag) == (
        0,
        True,
        f"{SVG}svg",
    )


def test_cli_shows_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    argv = report_command("--spins", "20000", "--no-chart")
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr, list(tmp_path.iterdir())) == (0, "", [])
