"""All simulator state behind one typed interface (:mod:`.interface`): in memory or in Redis."""

from .memory import MemoryStore

__all__ = ["MemoryStore"]
