"""``python -m simulator``: every subcommand is listed and has ``--help`` with examples."""

from __future__ import annotations

import pytest

from simulator.__main__ import build_parser, main

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
