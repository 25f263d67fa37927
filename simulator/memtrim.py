"""Give freed heap memory back to the operating system after a large purge.

CPython returns small objects to its own arenas and glibc keeps freed heap
pages, so after retention drops a million history rows the process's RSS
stays near its peak although the memory is free.  ``malloc_trim(0)`` asks
glibc to release it; elsewhere (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

#: Purges smaller than this are not worth a trim (it walks the whole heap).
TRIM_AFTER_ROWS = 10_000


@functools.cache
def _malloc_trim() -> object | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


def release_freed_memory() -> bool:
    """Collect garbage and trim the C heap; True when the platform could trim."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # type: ignore[operator]
    return True
