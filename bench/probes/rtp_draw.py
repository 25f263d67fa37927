"""Spins per second one round at a time: the reference of the rtp-report scenario (7).

A played round draws its outcome with ``RtpEngine.draw`` and settles it as
``stake x multiplier`` rounded half-even to 4 places (``simulator/domain/rounds.py``);
this probe does exactly that ``--spins`` times, with no ledger, HTTP or
history, for the same game, RTP and stream as ``rtp-report``'s defaults.
Prints ``{"spins": N, "seconds": S}``.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import ROUND_HALF_EVEN, Decimal

from simulator.domain.rtp import RtpEngine

FOUR_PLACES = Decimal("0.0001")
SEED, AGENT_ID, PROVIDER_ID, GAME_CODE, CATEGORY = 20260101, 3, 1, "vs20fruitsw", "Slots"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probes.rtp_draw")
    parser.add_argument("--spins", type=int, default=300_000)
    args = parser.parse_args(argv)
    engine = RtpEngine(SEED)
    rtp, stake = Decimal(95), Decimal(100)
    won = Decimal(0)
    started = time.perf_counter()
    for _ in range(args.spins):
        multiplier = engine.draw((AGENT_ID,), PROVIDER_ID, GAME_CODE, CATEGORY, rtp, None).multiplier
        won += (stake * Decimal(multiplier.numerator) / Decimal(multiplier.denominator)).quantize(
            FOUR_PLACES, rounding=ROUND_HALF_EVEN
        )
    seconds = time.perf_counter() - started
    print(json.dumps({"spins": args.spins, "seconds": seconds, "rtp": float(won / (stake * args.spins))}))


if __name__ == "__main__":
    main()
