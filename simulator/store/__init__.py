"""The two implementations of the store interface (:mod:`simulator.domain.store`): in memory
(:mod:`.memory`, the default) and in Redis (:mod:`.redis_store` and its scripts).

The interface lives with the domain that calls it, so this package depends on the domain
and never the other way round.
"""

from .memory import MemoryStore

__all__ = ["MemoryStore"]
