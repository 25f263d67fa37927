"""The Flask application: every API family added explicitly, the lean ``/v4`` front in front.

:func:`create_app` builds the app with its own simulator state (one per app: tests
build many); gunicorn serves it through :mod:`simulator.wsgi`.  Each family comes
from its package's ``init_app``: ``/v4`` (:mod:`simulator.api`), ``/admin/api`` and
``/backoffice`` (:mod:`simulator.backoffice`), ``/play`` (:mod:`simulator.play`) and,
when enabled, ``/control`` (:mod:`simulator.control`); the thumbnails (``/media``)
and the API documentation (``/docs``, ``/openapi.json``) are single modules.  ``/v4`` never
reaches Flask: its entrance (:mod:`simulator.api.front`) sits in front of the app.
Every other family has one entrance and one error path (:mod:`simulator.families`).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response

from . import api, backoffice, control, docs, families, media, play
from .config import Settings
from .http import attach_simulator, json_response
from .runtime import Simulator
from .state.statefile import load_at_start as load_state_file
from .version import __version__


def create_app(settings: Any = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("simulator")
    sim = Simulator(settings)
    load_state_file(sim)
    attach_simulator(app, sim)
    admin_token = settings.admin_token
    if not admin_token and not settings.loopback_only:
        admin_token = secrets.token_urlsafe(24)
        admin_token = sim.backend.first_drawn("admin_token", admin_token)  # one for all workers
    app.config["SCORPIO_ADMIN_TOKEN"] = admin_token
    api.init_app(app, sim)
    backoffice.init_app(app)
    app.register_blueprint(media.blueprint)
    app.register_blueprint(docs.blueprint)
    play.init_app(app)
    if settings.control:
        control.init_app(app)

    @app.get("/")
    def index() -> Response:
        return json_response(
            {
                "name": "scorpio-sim",
                "version": __version__,
                "api": f"{settings.base_url}/v4",
                "admin_api": f"{settings.base_url}/admin/api",
                "backoffice": f"{settings.base_url}/backoffice",
                "control": f"{settings.base_url}/control" if settings.control else None,
            }
        )

    families.install(app)
    app.wsgi_app = sim.backend.catching_up(app.wsgi_app, sim)  # type: ignore[method-assign]
    return app
