"""The one place that chooses the simulator's backend, from ``SCORPIO_SIM_STORE``.

Apart from :mod:`simulator.backends` because it is the only code that names both
backends: :mod:`simulator.redis_backend` builds on the :class:`~simulator.backends.Backend`
protocol, so the protocol's module cannot import it back.
"""

from __future__ import annotations

import re

from .backends import Backend, LocalBackend
from .config import Settings


def open_backend(settings: Settings) -> Backend:
    """The backend of ``SCORPIO_SIM_STORE``: ``memory``, or a ``redis://`` URL it can reach."""
    if settings.store == "memory":
        return LocalBackend()
    # Imported only now, so the memory store never loads the Redis client (an optional extra).
    import redis

    from .redis_backend import RedisServices

    backend = RedisServices(settings.store, settings.store_prefix)
    try:
        backend.redis.ping()
    except redis.RedisError as exc:
        backend.close()
        shown = re.sub(r"//[^/@]*@", "//***@", settings.store)
        raise RuntimeError(f"SCORPIO_SIM_STORE: cannot reach Redis at {shown}: {exc}") from None
    return backend
