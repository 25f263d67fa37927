"""``python -m simulator snapshot``: take, restore, check and save snapshots of a simulator.

``take``, ``restore`` and ``save`` talk to a running simulator over its control
API; ``inspect`` needs none: it restores the file into a private, offline
simulator (every check of ``POST /control/restore`` runs) and summarises it.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from .cli_options import HelpFormatter, add_remote_options
from .config import Settings
from .runtime import Simulator
from .state.snapshot import SnapshotError
from .state.statefile import StateFileError, read, write_atomically

SNAPSHOT_EXAMPLES = """\
A snapshot is the whole state of a simulator as JSON: agents, users, balances,
history, sessions, rounds, decks, faults, the clock and callbacks still waiting
for a retry. `take` and `restore` use GET /control/snapshot and POST
/control/restore; `save` asks the server to write its SCORPIO_SIM_STATE_FILE now;
`inspect` checks a file offline and prints what it holds.

examples:
  python -m simulator snapshot take --out before.json
  python -m simulator snapshot restore before.json
  python -m simulator snapshot inspect before.json
  python -m simulator snapshot save                      # the server writes its state file
  python -m simulator snapshot take --url http://10.0.0.5:8080 --admin-token T --out ci.json
"""


class CliError(Exception):
    """A failure worth one line on stderr and exit code 2."""


def _headers(args: argparse.Namespace) -> dict[str, str]:
    return {"X-Admin-Token": args.admin_token} if args.admin_token else {}


def _call(args: argparse.Namespace, method: str, path: str, data: bytes | None = None) -> requests.Response:
    url = f"{args.url.rstrip('/')}/control/{path}"
    headers = _headers(args)
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        answer = requests.request(method, url, headers=headers, data=data, timeout=args.timeout)
    except requests.RequestException as exc:
        raise CliError(f"cannot reach the simulator at {args.url}: {exc}") from None
    if answer.status_code >= 400:
        try:
            problem = answer.json().get("error", answer.text)
        except ValueError:
            problem = answer.text[:300]
        raise CliError(f"{method} /control/{path} answered {answer.status_code}: {problem}")
    return answer


def _take(args: argparse.Namespace) -> int:
    answer = _call(args, "GET", "snapshot")
    if args.out == "-":
        sys.stdout.write(answer.text)
        return 0
    data = answer.json(parse_float=Decimal)
    size = write_atomically(Path(args.out), data)
    print(f"snapshot taken at {data.get('taken_at')} written to {args.out} ({size} bytes)")
    return 0


def _read(path: str) -> Any:
    try:
        return read(Path(path))
    except StateFileError as exc:
        raise CliError(str(exc)) from None


def _restore(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes() if Path(args.file).is_file() else None
    if data is None:
        raise CliError(f"no snapshot file {args.file}")
    answer = _call(args, "POST", "restore", data=data)
    figures = answer.json()
    print(
        f"restored {args.file}: {figures['agents']} agents, {figures['users']} users, "
        f"{figures['transactions']} transactions, {figures['rounds']} rounds, "
        f"{figures['pending_callbacks']} callbacks pending"
    )
    return 0


def _save(args: argparse.Namespace) -> int:
    figures = _call(args, "POST", "snapshot/save").json()
    print(f"the simulator wrote {figures['path']} ({figures['bytes']} bytes in {figures['seconds']} s)")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    data = _read(args.file)
    sim = Simulator(Settings())
    try:
        try:
            world = sim.restore(data)
        except SnapshotError as exc:
            print(f"{args.file}: cannot be restored: {exc}")
            return 1
        store = world.store
        audit = world.ledger.audit()
        summary = {
            "file": args.file,
            "taken_at": data.get("taken_at"),
            "seed": data.get("seed"),
            "agents": [
                {"name": a.name, "kind": a.kind, "mode": a.mode, "points": str(a.points)}
                for a in store.all_agents()
            ],
            "users": store.user_count(),
            "transactions": store.transaction_count(),
            "rounds": store.round_count(),
            "sessions": store.session_count(),
            "pending_callbacks": len([j for j in data.get("retries", []) if j.get("state") == "pending"]),
            "failed_callbacks": len([j for j in data.get("retries", []) if j.get("state") == "failed"]),
            "fault_rules": len(data.get("faults", {}).get("rules", [])),
            "money_conserved": audit.conserved,
        }
    finally:
        sim.retries.stop()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{args.file}: snapshot taken at {summary['taken_at']} (seed {summary['seed']})")
    for agent in summary["agents"]:
        print(f"  {agent['kind']:<8} {agent['name']:<24} {agent['mode']:<9} points {agent['points']}")
    for key in (
        "users",
        "transactions",
        "rounds",
        "sessions",
        "pending_callbacks",
        "failed_callbacks",
        "fault_rules",
    ):
        print(f"  {key.replace('_', ' ')}: {summary[key]}")
    print(f"  money conserved: {'yes' if summary['money_conserved'] else 'NO'}")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        return args.action(args)
    except CliError as exc:
        print(f"snapshot: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"snapshot: {exc}", file=sys.stderr)
        return 2


def register(commands: Any) -> None:
    raw = HelpFormatter
    parser = commands.add_parser(
        "snapshot",
        help="take, restore, inspect or save snapshots of the whole state",
        description="Take, restore, inspect or save snapshots of a simulator's whole state.",
        epilog=SNAPSHOT_EXAMPLES,
        formatter_class=raw,
    )
    actions = parser.add_subparsers(dest="action_name", metavar="ACTION", required=True)

    def action(name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, epilog=SNAPSHOT_EXAMPLES, formatter_class=raw)
        sub.set_defaults(handler=_run, action=run)
        return sub

    take = action("take", "GET /control/snapshot into a file", _take)
    take.add_argument("--out", required=True, help="file to write (atomically), or - for stdout")
    add_remote_options(take, timeout=120.0)
    restore = action("restore", "POST a snapshot file to /control/restore", _restore)
    restore.add_argument("file", help="a snapshot file")
    add_remote_options(restore, timeout=120.0)
    add_remote_options(
        action("save", "make the simulator write its SCORPIO_SIM_STATE_FILE now", _save), 120.0
    )
    inspect = action("inspect", "check a snapshot file offline and summarise it", _inspect)
    inspect.add_argument("file", help="a snapshot or state file")
    inspect.add_argument("--json", action="store_true", help="print the summary as JSON")
