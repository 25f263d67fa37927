"""``python -m simulator traffic``: load-test a wallet through a running simulator's ``/control/traffic``.

Starts a run over HTTP, prints a progress line to stderr every second, then
the final report to stdout.  Exit 0 when the run reconciled, 1 when it did
not (or failed), 2 for usage and connection errors.  Ctrl-C stops the run
(``DELETE``) and still prints its report; a second Ctrl-C leaves at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from ..cli_options import HelpFormatter, add_remote_options, amount_arg
from ..money import json_number
from .text import format_report, progress_line

EXAMPLES = """\
Drives a RUNNING simulator (`make run`) over HTTP: its /control API must be on
(the default) and, if it has an admin token, --admin-token or
$SCORPIO_SIM_ADMIN_TOKEN must give it.  Seamless agents play against their
callback URL, so the wallet must know the accounts the players use: give
--accounts with names it knows (the reference wallet has test1234), or let the
run make traffic_<run>_<n> names if your wallet creates accounts on
authenticate.  Transfer agents' players are deposited enough to play and
withdrawn afterwards.

examples:
  python -m simulator traffic --agent demo --players 20 --rate 50 --duration 30
  python -m examples.wallet &       # the reference wallet on :8090, account test1234
  python -m simulator traffic --agent demo_seamless --accounts test1234 --rate 20 --duration 30
  python -m simulator traffic --agent demo --rate 5 --duration 10 --json > report.json
  python -m simulator traffic --url http://sim:8080 --admin-token T --agent my_agent \\
      --provider-id 1 --game-code vs20fruitsw --bet 100
"""

TERMINAL = ("done", "failed")


def _positive(kind: type, high: float):
    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, InvalidOperation):
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"must be above 0 and at most {high}, got {text}")
        return value

    return parse


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one account name")
    return names


def register(commands: Any) -> None:
    """Add ``traffic`` to the ``python -m simulator`` subcommands."""
    traffic = commands.add_parser(
        "traffic",
        help="load-test an agent's wallet: virtual players at a steady rate, then a reconciliation",
        description="Start a traffic run on a running simulator (POST /control/traffic) and report it.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    add_remote_options(traffic)
    traffic.add_argument("--agent", default="demo", help="the agent whose players play")
    traffic.add_argument("--players", type=_positive(int, 1000), default=10, help="virtual players, 1-1000")
    traffic.add_argument(
        "--rate",
        type=_positive(Decimal, 1000),
        default=Decimal(10),
        help="rounds per second over all players, at most 1000",
    )
    traffic.add_argument(
        "--duration",
        type=_positive(Decimal, 3600),
        default=Decimal(30),
        help="seconds, at most 3600",
    )
    traffic.add_argument("--bet", type=amount_arg, help="stake per round (default: the agent's minimum bet)")
    traffic.add_argument(
        "--provider-id", type=int, help="game provider (default: the first Slots game allowed)"
    )
    traffic.add_argument("--game-code", help="game code (with --provider-id)")
    traffic.add_argument(
        "--accounts",
        type=_names,
        help="account names, comma-separated, the wallet knows (default: new players traffic_<run>_<n>)",
    )
    traffic.add_argument(
        "--deposit", type=amount_arg, help="transfer mode: deposit per player (default: enough)"
    )
    traffic.add_argument(
        "--drain",
        type=amount_arg,
        help="seconds to wait for pending win/cancel retries (default: the simulator's, 20)",
    )
    traffic.add_argument("--json", action="store_true", help="print the final report as JSON")
    traffic.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    traffic.add_argument("--interval", type=_positive(float, 60), default=1.0, help=argparse.SUPPRESS)
    traffic.set_defaults(handler=run_command)


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent": args.agent,
        "players": args.players,
        "rounds_per_second": json_number(args.rate),
        "duration_s": json_number(args.duration),
    }
    optional = {
        "bet": args.bet,
        "provider_id": args.provider_id,
        "game_code": args.game_code,
        "accounts": args.accounts,
        "deposit": args.deposit,
        "drain_s": args.drain,
    }
    for key, value in optional.items():
        if value is not None:
            body[key] = json_number(value) if isinstance(value, Decimal) else value
    return body


class Failure(Exception):
    """A usage or connection problem: exit code 2."""


class Control:
    def __init__(self, url: str, token: str) -> None:
        self.base = url.rstrip("/") + "/control/traffic"
        self.session = requests.Session()
        if token:
            self.session.headers["X-Admin-Token"] = token

    def call(self, method: str, path: str = "", body: Any = None) -> dict[str, Any]:
        try:
            response = self.session.request(method, self.base + path, json=body, timeout=30)
        except requests.RequestException as exc:
            raise Failure(f"cannot reach the simulator at {self.base}: {exc.__class__.__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            why = answer.get("error") if isinstance(answer, dict) else response.text[:200]
            raise Failure(f"{method} {self.base + path} answered {response.status_code}: {why}")
        return answer


def _watch(control: Control, run_id: int, args: argparse.Namespace) -> dict[str, Any]:
    """Poll until the run ends; the first Ctrl-C stops the run, a second one returns at once."""
    report = control.call("GET", f"/{run_id}")
    stopped = False
    while report["state"] not in TERMINAL:
        try:
            time.sleep(args.interval)
            report = control.call("GET", f"/{run_id}")
            if not args.quiet:
                print(progress_line(report), file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            if stopped:
                print("traffic: left without waiting; the run keeps ending on the server", file=sys.stderr)
                break
            stopped = True
            print(f"traffic: stopping run {run_id} (Ctrl-C again to leave now)", file=sys.stderr)
            report = control.call("DELETE", f"/{run_id}")
    return report


def run_command(args: argparse.Namespace) -> int:
    if (args.provider_id is None) != (args.game_code is None):
        print("traffic: give both --provider-id and --game-code, or neither", file=sys.stderr)
        return 2
    control = Control(args.url, args.admin_token)
    try:
        run_id = control.call("POST", body=_body(args))["id"]
        if not args.quiet:
            print(f"traffic: run {run_id} started on {args.url}", file=sys.stderr, flush=True)
        report = _watch(control, run_id, args)
    except Failure as failure:
        print(f"traffic: {failure}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(format_report(report))
    return 0 if report["reconciliation"]["ok"] is True else 1
