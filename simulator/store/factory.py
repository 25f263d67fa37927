"""Which implementation serves a setting: ``SCORPIO_SIM_STORE`` is ``memory`` or a Redis URL (issue 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..limits import InflightLimiter

if TYPE_CHECKING:
    from .redis_limiter import RedisInflightLimiter


def make_limiter(settings: Settings, client: Any = None) -> InflightLimiter | RedisInflightLimiter:
    """The in-flight limiter: per process in memory, shared by all workers and hosts on Redis
    (through ``client`` when given: the store's own connection, so a request's end is one pipeline)."""
    if settings.store == "memory":
        return InflightLimiter(settings.inflight_limit)
    # Imported here so the memory store never loads the Redis client.
    from .redis_limiter import RedisInflightLimiter

    return RedisInflightLimiter(
        settings.inflight_limit, client or settings.store, prefix=settings.store_prefix
    )
