"""``python -m simulator`` (installed as ``scorpio-sim``): the simulator's command line.

Each subcommand is a function ``_<name>(args) -> int`` registered in
:func:`build_parser`; new ones (seed, conformance, traffic, snapshot) plug in
the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

try:
    from . import seeding
    from . import state_cli as snapshot_cli
    from .cli_options import HelpFormatter, amount_arg, decimal_arg, default_seed
    from .config import default_fixtures_dir
    from .rtpreport import Progress, ReportConfig, catalogue_category, format_report, simulate, write_chart
    from .seamless.conformance import run_conformance
    from .traffic import cli as traffic_cli
except ModuleNotFoundError as missing:  # the system's Python in the checkout: say what to run instead
    from .install_hint import is_dependency, missing_dependency

    if not is_dependency(missing):
        raise
    sys.stderr.write(missing_dependency(missing))
    sys.exit(1)

TOP_EXAMPLES = """\
examples:
  python -m simulator serve                     # the simulator on 127.0.0.1:8080
  python -m simulator seed --out my-world       # a fixture set of your own (agents, tokens, players)
  python -m simulator rtp-report --rtp 95       # does RTP 95 converge to 95%?
  python -m simulator conformance --callback-url http://127.0.0.1:8090/callback --token TOKEN
  python -m simulator traffic --agent demo --rate 20 --duration 30   # load-test a wallet
  python -m simulator snapshot take --out before.json                 # the whole state as JSON
  python -m simulator rtp-report --help         # every option of a subcommand
"""

SERVE_EXAMPLES = """\
Runs gunicorn with the project's configuration (gunicorn.conf.py); every
SCORPIO_SIM_* variable applies as with `make run`.  The subcommands that talk to
a running simulator (snapshot, traffic) find it at $SCORPIO_SIM_URL, else at the
address of $SCORPIO_SIM_BIND.

examples:
  python -m simulator serve
  python -m simulator serve --bind 0.0.0.0:8080
  SCORPIO_SIM_SEED=7 python -m simulator serve
"""

RTP_REPORT_EXAMPLES = """\
Plays rounds through the simulator's RTP engine exactly as the game does (same
stream per agent, game, RTP and max-win cap; same rounding of wins), prints the
target, the pay table's exact expected return, the realised RTP with a 95%
confidence interval, the hit rate, and writes a convergence chart (SVG, by
default into the temporary directory).
With the simulator's seed and agent id, the spins are the ones that agent's
first rounds of the game get after a reset.

examples:
  python -m simulator rtp-report --rtp 95 --spins 1000000
  python -m simulator rtp-report --rtp 87.5 --category Live --seed 7 --chart live.svg
  python -m simulator rtp-report --rtp 95 --stake 100 --max-win 1000 --quiet
  python -m simulator rtp-report --rtp 90 --provider-id 1 --game-code vs20fruitsw --no-chart
"""

CONFORMANCE_EXAMPLES = """\
Plays the conformance scenarios of spec 6.12 (and robustness checks: concurrent
identical bets, unknown transactions, a win after a cancel, zero amounts,
unknown long and unicode accounts) against a seamless wallet's callback URL.
It needs no running simulator and uses virtual money: expected balances come
from what the wallet reports. Exit code 0 when every scenario passes (warnings
allowed), 1 on any failure, 2 for usage errors.

examples:
  python -m examples.wallet --port 8090 &     # the reference wallet
  python -m simulator conformance --callback-url http://127.0.0.1:8090/callback \\
      --token eadd5a04-4720-4a10-ae60-b11cd01cc3aa
  python -m simulator conformance --callback-url https://wallet.example/cb --token T --dialect legacy
  python -m simulator conformance --callback-url URL --token T --account qa01 --junit conformance.xml
  python -m simulator conformance --callback-url URL --token T --verbose   # every request and reply
"""


def _rtp(text: str) -> Decimal:
    value = decimal_arg(text)
    if not Decimal(0) < value <= Decimal(100):
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 100, got {text}")
    return value


def _spins(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _stake(text: str) -> Decimal:
    value = amount_arg(text)
    if value == 0:
        raise argparse.ArgumentTypeError("the stake must be above 0")
    return value


def gunicorn_config() -> Path:
    """The gunicorn configuration: the repository's, or the copy inside an installed wheel."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "gunicorn.conf.py", package / "_gunicorn.conf.py"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("gunicorn.conf.py is neither in the repository nor in the package")


def gunicorn_command(config: Path) -> list[str]:
    """The venv's gunicorn (next to this interpreter), else ``python -m gunicorn``."""
    beside = Path(sys.executable).parent / "gunicorn"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside), "--config", str(config)]
    return [sys.executable, "-m", "gunicorn", "--config", str(config)]


def _serve(args: argparse.Namespace) -> int:
    if args.bind:
        os.environ["SCORPIO_SIM_BIND"] = args.bind  # the config and the app's URLs both read it
    try:
        command = gunicorn_command(gunicorn_config())
    except FileNotFoundError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(command[0], command)
    return 0  # pragma: no cover - execvp does not return


def _rtp_report(args: argparse.Namespace) -> int:
    category = args.category
    if category is None:
        fixtures = Path(os.environ.get("SCORPIO_SIM_FIXTURES") or default_fixtures_dir())
        category = catalogue_category(fixtures, args.provider_id, args.game_code) or "Slots"
    config = ReportConfig(
        rtp=args.rtp,
        spins=args.spins,
        seed=args.seed,
        category=category,
        provider_id=args.provider_id,
        game_code=args.game_code,
        agent_id=args.agent_id,
        stake=args.stake,
        max_win=args.max_win,
    )
    progress = None
    if not args.quiet and sys.stderr.isatty():
        progress = Progress(sys.stderr, config.spins, config.stake)
    try:
        result = simulate(config, progress)
    finally:
        if progress is not None:
            progress.clear()
    chart = None if args.no_chart else args.chart
    if chart:
        try:
            write_chart(result, Path(chart))
        except OSError as exc:
            print(f"rtp-report: cannot write the chart {chart}: {exc}", file=sys.stderr)
            return 1
    sys.stdout.write(format_report(result, chart))
    return 0


def _callback_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or len(text) <= len("http://"):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text


def _account(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _conformance(args: argparse.Namespace) -> int:
    report = run_conformance(args.callback_url, args.token, args.account, args.dialect)
    if hasattr(sys.stdout, "reconfigure"):  # the unicode-account scenario must print on any console
        sys.stdout.reconfigure(errors="backslashreplace")
    sys.stdout.write(report.summary(verbose=args.verbose))
    if args.junit:
        try:
            Path(args.junit).write_bytes(report.junit())
        except OSError as exc:
            print(f"conformance: cannot write the JUnit report {args.junit}: {exc}", file=sys.stderr)
            return 2
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    raw = HelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="scorpio-sim: an offline simulator of the Scorpio Play v4 aggregator API.",
        epilog=TOP_EXAMPLES,
        formatter_class=raw,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="serve the simulator with gunicorn", epilog=SERVE_EXAMPLES, formatter_class=raw
    )
    serve.add_argument(
        "--bind",
        default=os.environ.get("SCORPIO_SIM_BIND", "").strip() or "127.0.0.1:8080",
        help="address to listen on; sets SCORPIO_SIM_BIND, whose value is the default",
    )
    serve.set_defaults(handler=_serve)

    report = commands.add_parser(
        "rtp-report",
        help="simulate spins and show how the realised RTP converges",
        description="Simulate spins through the RTP engine and report the realised RTP (spec 1.6).",
        epilog=RTP_REPORT_EXAMPLES,
        formatter_class=raw,
    )
    report.add_argument(
        "--rtp", type=_rtp, default=Decimal(95), help="the effective RTP in %%, 0 < RTP <= 100"
    )
    report.add_argument("--spins", type=_spins, default=1_000_000, help="rounds to play")
    report.add_argument(
        "--seed",
        type=int,
        default=default_seed(),
        help="the simulator's seed (default: $SCORPIO_SIM_SEED or %(default)s)",
    )
    report.add_argument(
        "--category",
        choices=("Slots", "Live", "Mini"),
        help="pay-table shape (default: the game's catalogue category)",
    )
    report.add_argument("--provider-id", type=int, default=1, help="provider of the game")
    report.add_argument("--game-code", default="vs20fruitsw", help="game code")
    report.add_argument(
        "--agent-id", type=int, default=3, help="agent whose stream is dealt (default: %(default)s, 'demo')"
    )
    report.add_argument("--stake", type=_stake, default=Decimal(100), help="stake per round")
    report.add_argument(
        "--max-win", type=amount_arg, default=Decimal(0), help="the agent's max win; 0 = none"
    )
    report.add_argument(
        "--chart",
        default=str(Path(tempfile.gettempdir()) / "rtp-convergence.svg"),
        help="SVG chart to write",
    )
    report.add_argument("--no-chart", action="store_true", help="do not write a chart")
    report.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    report.set_defaults(handler=_rtp_report)

    conformance = commands.add_parser(
        "conformance",
        help="test a seamless wallet against the callback protocol (spec 6.12)",
        description="Run the wallet conformance scenarios (spec 6.12) against a callback URL.",
        epilog=CONFORMANCE_EXAMPLES,
        formatter_class=raw,
    )
    conformance.add_argument(
        "--callback-url", required=True, type=_callback_url, help="the wallet's callback URL"
    )
    conformance.add_argument("--token", required=True, help="the Callback-Token the wallet expects")
    conformance.add_argument("--account", type=_account, default="test1234", help="the test account")
    conformance.add_argument(
        "--dialect", choices=("v4", "legacy"), default="v4", help="callback data dialect"
    )
    conformance.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE")
    conformance.add_argument(
        "--verbose", action="store_true", help="show every request and reply under its scenario"
    )
    conformance.set_defaults(handler=_conformance)
    snapshot_cli.register(commands)
    traffic_cli.register(commands)
    seeding.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
