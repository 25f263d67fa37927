"""The scenarios of issue 7 (and ``redis``, issue 9), in the order ``make bench`` runs them.

Each module has ``NAME`` (what ``--only`` takes), ``TITLE`` (the table's
scenario column) and ``run(ctx) -> list[Result]``.
"""

from __future__ import annotations

from types import ModuleType

from . import cold, limit, memory, read, redis, rtp, seamless, writes

SCENARIOS: dict[str, ModuleType] = {
    module.NAME: module for module in (read, writes, seamless, limit, cold, memory, rtp, redis)
}
