"""What ``python -m simulator`` says when it runs in a Python without the project installed.

A newcomer typing ``python -m simulator ...`` in the checkout with the system's
Python gets the package from the current directory but none of its dependencies;
a traceback about ``flask`` would not tell them to use the virtual environment
``make install`` creates.  This module imports nothing beyond the standard library.
"""

from __future__ import annotations

import sys


def missing_dependency(error: ModuleNotFoundError) -> str:
    """The message for an import of a dependency that failed (not of the simulator's own modules)."""
    return (
        f"scorpio-sim: this Python ({sys.executable}) does not have the simulator's dependencies "
        f"installed (no module named {error.name!r}).\n"
        "In the checkout, `make install` creates the virtual environment .venv with everything; then run\n"
        "  .venv/bin/python -m simulator ...\n"
        "or activate it first (`. .venv/bin/activate`) and use `python -m simulator ...`.\n"
        "Elsewhere: pip install scorpio-sim (add [redis] for the Redis store).\n"
    )


def is_dependency(error: ModuleNotFoundError) -> bool:
    """A third-party module is missing, rather than one of the simulator's own (which would be a bug)."""
    return bool(error.name) and error.name.split(".")[0] != "simulator"
