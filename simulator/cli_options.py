"""Command-line options shared by the ``python -m simulator`` subcommands."""

from __future__ import annotations

import argparse
import os
from decimal import Decimal, InvalidOperation

from .money import MAX_PLACES, places

#: The simulator's default seed (``SCORPIO_SIM_SEED``), as in :class:`simulator.config.Settings`.
DEFAULT_SEED = 20260101


def default_seed() -> int:
    """``$SCORPIO_SIM_SEED`` when it is an integer, else the simulator's default seed."""
    raw = os.environ.get("SCORPIO_SIM_SEED", "")
    return int(raw) if raw.strip().lstrip("-").isdigit() else DEFAULT_SEED


def add_remote_options(parser: argparse.ArgumentParser, timeout: float | None = None) -> None:
    """``--url`` and ``--admin-token`` (and ``--timeout``) for subcommands that drive a running simulator."""
    parser.add_argument(
        "--url",
        default=os.environ.get("SCORPIO_SIM_URL", "http://127.0.0.1:8080"),
        help="the simulator (default $SCORPIO_SIM_URL or %(default)s)",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("SCORPIO_SIM_ADMIN_TOKEN", ""),
        help="X-Admin-Token when the simulator has one (default $SCORPIO_SIM_ADMIN_TOKEN)",
    )
    if timeout is not None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=timeout,
            help="seconds to wait for an answer (default %(default)s)",
        )


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
