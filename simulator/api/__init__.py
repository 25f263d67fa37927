"""The main API, ``/v4`` (the spec): every call answers in the envelope ``{code, message, data?}``.

:func:`init_app` adds its routes; the lean front (:mod:`.front`) serves a POST to an
endpoint's own path before Flask routes anything.
"""

from __future__ import annotations

from flask import Flask

from . import routes


def init_app(app: Flask) -> None:
    app.register_blueprint(routes.blueprint)
