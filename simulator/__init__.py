"""scorpio-sim: an offline simulator of the Scorpio Play (SlotCity v4) aggregator API.

``create_app(settings)`` (:mod:`simulator.app`) builds the Flask application with
its own simulator state; gunicorn serves it through :mod:`simulator.wsgi`, tests
use it in-process.  The ``/v4`` calls themselves are served by a lean WSGI layer
in front of Flask (:mod:`simulator.api.front`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["__version__", "create_app"]


def create_app(settings: Any = None) -> Flask:
    """:func:`simulator.app.create_app`, imported on first call: importing the package (for
    ``python -m simulator``, which explains a missing install, or one of its modules) does
    not import Flask and every API."""
    from .app import create_app as build

    return build(settings)
