"""``python -m simulator``: every subcommand is listed and has ``--help`` with examples and defaults;
the subcommands that drive a running simulator find it through one setting (issue 16)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.__main__ import build_parser, main
from simulator.cli_options import server_url

REPO_ROOT = Path(__file__).resolve().parents[2]

COMMANDS = ["serve", "seed", "conformance", "rtp-report", "traffic", "snapshot"]


def test_the_top_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert f"\n    {command}" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_has_help_with_examples(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert f"python -m simulator {command}" in text


@pytest.mark.parametrize("action", ["take", "restore", "inspect", "save"])
def test_each_snapshot_action_has_help(capsys, action):
    with pytest.raises(SystemExit) as done:
        main(["snapshot", action, "--help"])
    assert done.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_an_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["frobnicate"])
    assert done.value.code == 2


def _parsers(parser: argparse.ArgumentParser, name: str = "") -> Iterator[tuple[str, Any]]:
    """``parser`` and every subcommand parser below it, with the words that call it."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}".strip())


def _flat(text: str) -> str:
    return " ".join(text.split())


def _options_with_defaults() -> list[tuple[str, str, object]]:
    found = []
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            default = action.default
            shown = action.option_strings and action.help is not argparse.SUPPRESS
            if shown and default not in (None, argparse.SUPPRESS) and default is not False:
                found.append((name, action.option_strings[-1], default))
    return found


def test_every_subcommand_with_options_is_checked_for_its_defaults():
    checked = {name for name, _, _ in _options_with_defaults()}
    assert checked == {
        "serve",
        "rtp-report",
        "conformance",
        "traffic",
        "seed",
        "snapshot take",
        "snapshot restore",
        "snapshot save",
    }


@pytest.mark.parametrize(("command", "option", "default"), _options_with_defaults())
def test_help_shows_the_default_of_every_option(capsys, command, option, default):
    parser = dict(_parsers(build_parser()))[command]
    action = next(a for a in parser._actions if option in a.option_strings)
    option_help = _flat(parser._get_formatter()._expand_help(action))
    with pytest.raises(SystemExit):
        main([*command.split(), "--help"])
    assert option_help in _flat(capsys.readouterr().out)
    assert "(default: " in option_help
    assert str(default) in option_help


def test_the_cli_talks_to_scorpio_sim_url_when_it_is_set():
    env = {"SCORPIO_SIM_URL": "http://sim.internal:9000/", "SCORPIO_SIM_BIND": "127.0.0.1:7000"}
    assert server_url(env) == "http://sim.internal:9000"


def test_the_cli_talks_to_the_bind_address_without_scorpio_sim_url():
    assert server_url({"SCORPIO_SIM_BIND": "127.0.0.1:7000"}) == "http://127.0.0.1:7000"


def test_the_cli_reaches_a_wildcard_bind_on_loopback():
    assert server_url({"SCORPIO_SIM_BIND": "0.0.0.0:8081"}) == "http://127.0.0.1:8081"


def test_the_cli_defaults_to_the_default_bind():
    assert server_url({}) == "http://127.0.0.1:8080"


@pytest.mark.parametrize("argv", [["traffic"], ["snapshot", "take", "--out", "-"], ["snapshot", "save"]])
def test_remote_subcommands_default_to_the_simulator_scorpio_sim_bind_names(monkeypatch, argv):
    monkeypatch.delenv("SCORPIO_SIM_URL", raising=False)
    monkeypatch.setenv("SCORPIO_SIM_BIND", "127.0.0.1:9123")
    assert build_parser().parse_args(argv).url == "http://127.0.0.1:9123"


def test_python_without_the_dependencies_says_to_use_the_virtual_environment():
    # -S: no site-packages, as in a system Python that never had the project installed.
    run = subprocess.run(
        [sys.executable, "-S", "-m", "simulator", "rtp-report", "--spins", "10"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (run.returncode, run.stdout, "Traceback" in run.stderr) == (1, "", False)
    assert "does not have the simulator's dependencies installed" in run.stderr
    assert ".venv/bin/python -m simulator" in run.stderr


def test_the_rtp_chart_goes_to_the_temporary_directory_by_default(tmp_path):
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "simulator", "rtp-report", "--spins", "2000", "--quiet"],
        cwd=work,
        env={**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (run.returncode, list(work.iterdir()), [p.name for p in temp.iterdir()]) == (
        0,
        [],
        ["rtp-convergence.svg"],
    )
