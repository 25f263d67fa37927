"""The main API, ``/v4`` (the spec): every call answers in the envelope ``{code, message, data?}``.

:func:`init_app` puts its one entrance (:mod:`.front`) in front of the app: every
``/v4`` request is routed and answered there, without Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .front import V4Front

if TYPE_CHECKING:
    from ..runtime import Simulator


def init_app(app: Flask, sim: Simulator) -> None:
    app.wsgi_app = V4Front(app.wsgi_app, sim)  # type: ignore[method-assign]
