"""The README's curl tour works verbatim against a fresh server.

Every ``curl`` line of the "A quick tour with curl" section runs through bash
with ``$B`` pointing at the live server; where the README shows the answer
(``# {...}``) the real answer must match it (a trailing ``...`` in the README
means "and more": the answer must start with what is shown).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.live


def tour_steps() -> list[tuple[str, str | None]]:
    """``(command, expected answer or None)`` for each curl line of the tour, in order."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## A quick tour with curl", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, str | None]] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        lines = block.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("curl "):
                continue
            following = lines[index + 1] if index + 1 < len(lines) else ""
            expected = following[2:] if following.startswith("# {") or following.startswith("# [") else None
            steps.append((line, expected))
    return steps


def test_the_tour_has_the_documented_steps():
    commands = [command for command, _ in tour_steps()]
    assert commands[0].startswith("curl -s -X POST $B/v4/agent/info")
    assert len(commands) >= 12


def test_every_tour_command_answers_as_the_readme_shows(live):
    assert shutil.which("curl"), "curl is needed to replay the README tour"
    env_prefix = f"T=ed45553e-1702-4342-a70d-09bf7ff7f568; B={live.base_url}; "
    for command, expected in tour_steps():
        run = subprocess.run(
            ["bash", "-c", env_prefix + command], capture_output=True, text=True, timeout=30, check=False
        )
        assert run.returncode == 0, f"{command}\n{run.stderr}"
        if expected is None:
            continue
        actual = run.stdout.strip()
        if " ..." in expected:
            prefix = expected.split(" ...", 1)[0]
            assert actual.startswith(prefix), f"{command}\nREADME: {expected}\nactual: {actual[:300]}"
        else:
            assert actual == expected, f"{command}\nREADME: {expected}\nactual: {actual}"
