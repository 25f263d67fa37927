"""Command-line options shared by the ``python -m simulator`` subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from .config import Settings
from .money import MAX_PLACES, places

#: The simulator's default seed (``SCORPIO_SIM_SEED``), as in :class:`simulator.config.Settings`.
DEFAULT_SEED = 20260101


def default_seed() -> int:
    """``$SCORPIO_SIM_SEED`` when it is an integer, else the simulator's default seed."""
    raw = os.environ.get("SCORPIO_SIM_SEED", "")
    return int(raw) if raw.strip().lstrip("-").isdigit() else DEFAULT_SEED


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every subcommand's ``--help``: epilogs as written, and each option followed by its default.

    Unlike argparse's ``ArgumentDefaultsHelpFormatter`` it leaves out the defaults that say
    nothing (``None`` and the ``False`` of a flag) and keeps a help text that explains its default
    in words, e.g. ``(default: the agent's minimum bet)``.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if not action.option_strings or "(default" in text or default is None or default is False:
            return action.help
        if default is argparse.SUPPRESS:
            return action.help
        return f"{text} (default: %(default)s)"


def server_url(environ: Mapping[str, str] | None = None) -> str:
    """The simulator the CLI talks to: ``$SCORPIO_SIM_URL``, else the address ``$SCORPIO_SIM_BIND`` serves.

    So a simulator started with ``SCORPIO_SIM_BIND=127.0.0.1:9000 make run`` is found by
    ``snapshot`` and ``traffic`` run with the same environment; a wildcard bind (``0.0.0.0``)
    is reached on loopback.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("SCORPIO_SIM_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    return Settings(bind=env.get("SCORPIO_SIM_BIND", "").strip() or Settings.bind).bind_url


def add_remote_options(parser: argparse.ArgumentParser, timeout: float | None = None) -> None:
    """``--url`` and ``--admin-token`` (and ``--timeout``) for subcommands that drive a running simulator."""
    parser.add_argument(
        "--url",
        default=server_url(),
        help="the simulator: $SCORPIO_SIM_URL, else the address of $SCORPIO_SIM_BIND",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("SCORPIO_SIM_ADMIN_TOKEN", ""),
        help="X-Admin-Token when the simulator has one (default: $SCORPIO_SIM_ADMIN_TOKEN)",
    )
    if timeout is not None:
        parser.add_argument("--timeout", type=float, default=timeout, help="seconds to wait for an answer")


def decimal_arg(text: str) -> Decimal:
    """An argparse type: a finite decimal number."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def amount_arg(text: str) -> Decimal:
    """An argparse type: an amount as the API accepts it, at least 0 with at most 4 decimals."""
    value = decimal_arg(text)
    if value < 0 or places(value) > MAX_PLACES:
        raise argparse.ArgumentTypeError(f"must be >= 0 with at most {MAX_PLACES} decimals, got {text}")
    return value
