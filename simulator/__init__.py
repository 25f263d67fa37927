"""scorpio-sim: an offline simulator of the Scorpio Play (SlotCity v4) aggregator API.

``create_app(settings)`` builds the Flask application with its own simulator
state; gunicorn serves it through :mod:`simulator.wsgi`, tests use it in-process.
The ``/v4`` calls themselves are served by a lean WSGI layer in front of Flask
(:mod:`simulator.api.front`).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app, so `python -m simulator` can explain a missing install
    from flask import Flask

__version__ = "0.1.0"


def create_app(settings: Any = None) -> Flask:
    from flask import Flask, Response, request

    from .api.front import V4Front
    from .api.routes import blueprint as v4
    from .api.transport import envelope
    from .backoffice.admin_api import blueprint as admin_api
    from .backoffice.pages import register as register_backoffice
    from .codes import ResultCode
    from .config import Settings
    from .control import (
        play_api,  # noqa: F401 - adds /control/outcomes and /control/play
        state_api,  # noqa: F401 - adds /control/snapshot and /control/restore
        traffic_api,  # noqa: F401 - adds /control/traffic
    )
    from .control.api import blueprint as control
    from .docs import blueprint as docs
    from .http import is_under, json_error, json_response
    from .media import blueprint as media
    from .play import register as register_play
    from .runtime import Simulator
    from .state.statefile import load_at_start as load_state_file

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    sim = Simulator(settings)
    load_state_file(sim)
    app.extensions["scorpio"] = sim
    admin_token = settings.admin_token
    if not admin_token and not settings.loopback_only:
        admin_token = secrets.token_urlsafe(24)
        admin_token = sim.backend.first_drawn("admin_token", admin_token)  # one for all workers
    app.config["SCORPIO_ADMIN_TOKEN"] = admin_token
    app.register_blueprint(v4)
    app.register_blueprint(admin_api)
    app.register_blueprint(media)
    app.register_blueprint(docs)
    register_play(app)
    register_backoffice(app)
    if settings.control:
        app.register_blueprint(control)

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

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return json_error(f"no route {request.method} {request.path}", 404)

    @app.errorhandler(405)
    def wrong_method(_: Exception) -> Response:
        if is_under(request.path.lower(), "/v4"):
            # Methods the /v4 view does not list (TRACE, QUERY, ...) still answer in the envelope (OP-11).
            detail = f"{request.path} accepts POST only, not {request.method}"
            return envelope(ResultCode.SERVICE_EXCEPTION, status=405, detail=detail)
        return json_error(f"{request.path} does not accept {request.method}", 405)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        from werkzeug.exceptions import HTTPException

        if isinstance(error, HTTPException):
            return json_error(error.description or error.name, error.code or 500)
        logging.getLogger("simulator").exception("unexpected error on %s", request.path)
        return json_error("internal error; see the simulator's log", 500)

    app.wsgi_app = sim.backend.catching_up(V4Front(app.wsgi_app, sim), sim)  # type: ignore[method-assign]
    return app
