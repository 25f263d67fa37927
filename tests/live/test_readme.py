"""README.md is true by test (issue 16): every shell block runs, in order, against a live simulator,
and prints what the README shows.  The rules the README follows are in :mod:`tests.live.readme_runner`.

Blocks that cannot run here are marked in the README (``<!-- readme-test: skip REASON -->``) and
reported as skipped tests with their reason (``pytest -rs``); only Docker and the test suite itself
may be skipped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import REPO_ROOT
from .readme_runner import (
    Block,
    Ports,
    Servers,
    Shell,
    free_port,
    matches,
    readme_blocks,
    server_kind,
    server_port,
    steps,
)

pytestmark = pytest.mark.live

README = (REPO_ROOT / "README.md").read_text()
BLOCKS = readme_blocks(README)
SKIPPED = [block for block in BLOCKS if block.skip]
#: Files the README's commands are asked to write into the current directory; nothing else may appear.
NAMED_OUTPUTS = {"before.json", "my-world"}


def scratch_checkout(tmp_path: Path) -> Path:
    """The checkout as symlinks, so whatever the README's commands write lands here, not in the repository."""
    scratch = tmp_path / "checkout"
    scratch.mkdir()
    for entry in REPO_ROOT.iterdir():
        if entry.name not in (".git", ".pytest_cache", ".ruff_cache", ".hypothesis"):
            (scratch / entry.name).symlink_to(entry)
    return scratch


def fixtures_for(ports: Ports, tmp_path: Path) -> Path:
    """The default fixtures with the seamless agent's callback URL on this run's wallet port."""
    fixtures = tmp_path / "fixtures"
    shutil.copytree(REPO_ROOT / "fixtures" / "default", fixtures)
    agents = fixtures / "agents.json"
    agents.write_text(ports.apply(agents.read_text()))
    return fixtures


def shell_env(ports: Ports, fixtures: Path) -> dict[str, str]:
    """The caller's environment without its SCORPIO_SIM_* settings (a newcomer has none) plus the ports."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCORPIO_SIM_")}
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    env["SCORPIO_SIM_BIND"] = f"127.0.0.1:{ports.simulator}"
    env["SCORPIO_SIM_FIXTURES"] = str(fixtures)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ beside the README's test file
    return env


def run_python(block: Block, shell: Shell, ports: Ports, scratch: Path, index: int) -> None:
    code = ports.apply(block.code)
    first = code.splitlines()[0]
    if first.startswith("# test_") and ".py" in first:
        name = first[2:].split()[0]
        (scratch / name).write_text(code)
        command = f".venv/bin/python -m pytest -q -p no:cacheprovider {name}"
    else:
        name = f".readme-block-{index}.py"
        (scratch / name).write_text(code)
        command = f".venv/bin/python {name}"
    result = shell.run(command)
    (scratch / name).unlink()
    assert result.returncode == 0, f"{block.title}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    shown = [ports.apply(line) for line in block.python_shown()]
    if shown:
        assert matches("\n".join(shown), result.stdout), (
            f"{block.title}\nREADME shows:\n" + "\n".join(shown) + f"\nit printed:\n{result.stdout}"
        )


def test_the_readme_has_runnable_shell_blocks():
    runnable = [block for block in BLOCKS if block.lang == "sh" and not block.skip]
    assert len(runnable) >= 20
    assert runnable[0].commands()[0].text.startswith("T=")


def test_only_blocks_that_need_docker_or_run_the_suite_are_skipped():
    assert [
        block.title for block in SKIPPED if "docker" not in block.code and "make test" not in block.code
    ] == []


@pytest.mark.parametrize("block", SKIPPED, ids=[block.title for block in SKIPPED])
def test_skipped_readme_block(block):
    pytest.skip(f"{block.title}: {block.skip}")


def test_every_readme_block_runs_and_prints_what_the_readme_shows(tmp_path):
    assert shutil.which("curl"), "curl is needed to run the README"
    ports = Ports(free_port(), free_port(), free_port())
    scratch = scratch_checkout(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    shell = Shell(scratch, shell_env(ports, fixtures_for(ports, tmp_path)))
    servers = Servers(shell, logs)
    try:
        servers.start("simulator", "make run", ports.simulator)  # "Against a fresh `make run`"
        for index, (block, command) in enumerate(steps(BLOCKS)):
            if command is None:
                run_python(block, shell, ports, scratch, index)
                continue
            text = ports.apply(command.text)
            where = f"README.md:{command.line}: {command.text}"
            kind = server_kind(text)
            if kind is not None:
                servers.start(kind, text, server_port(kind, text, ports))
                continue
            result = shell.run(text)
            assert result.returncode == 0, (
                f"{where}\nexit status {result.returncode}\n{result.stderr[-3000:]}"
            )
            shown = [ports.apply(line) for line in command.shown]
            if shown:
                assert matches("\n".join(shown), result.stdout), (
                    f"{where}\nREADME shows: " + "\n".join(shown) + f"\nit printed:   {result.stdout[:2000]}"
                )
    finally:
        servers.stop_all()
        shell.close()
    leftovers = {p.name for p in scratch.iterdir() if not p.is_symlink() and not p.name.startswith(".readme")}
    assert leftovers == NAMED_OUTPUTS


# -- the rules the README follows ------------------------------------------------------------
SAMPLE = """intro
```sh
X=1
curl -s $B/a \\
     -d '{}'
# {"code":0}
# {"code":1}

# a comment, not an output
curl -s $B/b   # a note
```

<!-- readme-test: skip needs a Docker engine -->
```sh
docker run x
```

```python
print({"a": 1})
# {'a': 1}
value = 2
```
"""


def test_commands_join_continuations_and_take_the_lines_shown_under_them():
    commands = readme_blocks(SAMPLE)[0].commands()
    assert [(c.text, c.line, c.shown) for c in commands] == [
        ("X=1", 3, []),
        ("curl -s $B/a \\\n     -d '{}'", 4, ['{"code":0}', '{"code":1}']),
        ("curl -s $B/b   # a note", 10, []),
    ]


def test_a_skip_mark_right_before_a_block_gives_its_reason():
    assert [block.skip for block in readme_blocks(SAMPLE)] == [None, "needs a Docker engine", None]


def test_a_python_block_shows_what_its_prints_print():
    assert readme_blocks(SAMPLE)[2].python_shown() == ["{'a': 1}"]


def test_an_ellipsis_stands_for_anything_and_masks_hide_what_changes():
    shown = '{"id": 7, ... "url":"http://h/play/AAAAAAAAAAAAAAAAAAAA"}'
    assert matches(shown, '{"id": 7, "x": 1, "url":"http://h/play/BBBBBBBBBBBBBBBBBBBBBB"}')
    assert not matches(shown, '{"id": 8, "x": 1, "url":"http://h/play/BBBBBBBBBBBBBBBBBBBBBB"}')


def test_a_shown_output_must_match_all_of_the_output():
    assert not matches('{"code":0}', '{"code":0,"data":1}')


def test_servers_are_recognised_by_their_command():
    kinds = [
        server_kind(text)
        for text in (
            "make run",
            "SCORPIO_SIM_BIND=127.0.0.1:9 make run &",
            "make redis-server",
            "redis-server --port 6379 &",
            ".venv/bin/python -m examples.wallet --port 8090",
            "curl -s $B/control/health",
        )
    ]
    assert kinds == ["simulator", "simulator", None, "redis", "wallet", None]


def test_the_readme_ports_are_remapped_everywhere():
    ports = Ports(18080, 18090, 16379)
    text = "B=http://127.0.0.1:8080 --port 8090 redis://127.0.0.1:6379/0 80800"
    assert ports.apply(text) == "B=http://127.0.0.1:18080 --port 18090 redis://127.0.0.1:16379/0 80800"
    assert server_port("redis", ports.apply("redis-server --port 6379 &"), ports) == 16379
    assert server_port("simulator", "SCORPIO_SIM_BIND=127.0.0.1:9000 make run", ports) == 9000


def test_steps_leave_out_skipped_blocks():
    ran = [(block.lang, command.text if command else None) for block, command in steps(readme_blocks(SAMPLE))]
    assert ran == [
        ("sh", "X=1"),
        ("sh", "curl -s $B/a \\\n     -d '{}'"),
        ("sh", "curl -s $B/b   # a note"),
        ("python", None),
    ]
