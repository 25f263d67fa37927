"""State storage behind a small interface (in memory for now)."""

from .memory import MemoryStore

__all__ = ["MemoryStore"]
