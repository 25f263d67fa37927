"""The ``/v4`` routes in Flask, for the requests the lean front passes on.

:class:`simulator.api.front.V4Front` serves a POST to an endpoint's own path
(``/v4/user/info``) without Flask.  Everything else under ``/v4`` - other
methods, unknown endpoints, ``/v4/``, a trailing or doubled slash - comes here,
through werkzeug's router, so those keep the answers they have always had; the
view hands them to the same :func:`simulator.api.dispatch.serve`.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from ..codes import ResultCode
from ..http import current_simulator, is_under
from .dispatch import serve
from .transport import envelope

log = logging.getLogger("simulator.api")
blueprint = Blueprint("v4", __name__)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@blueprint.before_app_request
def _routing_failure() -> Response | None:
    """A ``/v4`` URL the router itself refuses still answers in the envelope (OP-11).

    Werkzeug would otherwise answer ``/v4/`` and ``/v4//user/info`` with an HTML
    308 redirect (merged slashes, default values) before the view runs.  ``/V4/...``
    is no route (paths are case-sensitive) but is plainly meant for this API: the envelope too.
    """
    failure = request.routing_exception
    if failure is None or not is_under(request.path.lower(), "/v4"):
        return None
    status = 405 if isinstance(failure, MethodNotAllowed) else 404
    detail = f"no endpoint {request.path}" if status == 404 else f"{request.path} accepts POST only"
    log.info("agent=None path=%s code=%d ms=0.0", request.path, ResultCode.SERVICE_EXCEPTION)
    return envelope(ResultCode.SERVICE_EXCEPTION, status=status, detail=detail)


@blueprint.route("/v4/<path:path>", methods=ALL_METHODS)
@blueprint.route("/v4/", defaults={"path": ""}, methods=ALL_METHODS)
@blueprint.route("/v4", defaults={"path": ""}, methods=ALL_METHODS)
def dispatch(path: str) -> Response:
    return serve(current_simulator(), request.environ, path).response()
