"""The one entrance of ``/v4``: a WSGI layer in front of Flask that answers every ``/v4`` request.

Every request whose path is ``/v4`` or under it - any method, known endpoint or not,
``/V4/...`` too, since it is plainly meant for this API - is answered here by
:func:`simulator.api.dispatch.serve`, in the envelope (OP-11); Flask never sees it.
Everything else passes to Flask unchanged.  Flask's test client calls
``app.wsgi_app``, so in-process tests go through this layer too.

Why not a Flask blueprint (performance, issue 7): the ``/v4`` calls are what a load
test hammers, and Flask's per-request machinery - request context, URL routing, the
app-wide hooks, building and finalising a ``Response`` - cost about as much as the
simulator's own work, and does nothing for ``/v4``.

One error path: whatever ``serve`` does not turn into an envelope itself is answered
here as code 1001 (``INTERNAL_SERVER_ERROR``) in the envelope, and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..codes import ResultCode
from ..http import is_under
from .dispatch import serve
from .transport import envelope_answer

if TYPE_CHECKING:
    from ..runtime import Simulator

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger("simulator.api")


class V4Front:
    """``app.wsgi_app = V4Front(app.wsgi_app, sim)``: every ``/v4`` request, without Flask."""

    def __init__(self, app: WsgiApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        # The usual /v4/... path needs no lowering; /V4, /v4 alone and every other path do.
        if not path.startswith("/v4/") and not is_under(path.lower(), "/v4"):
            return self.app(environ, start_response)
        try:
            answer = serve(self.sim, environ)
        except Exception:
            log.exception("internal error on %s", path)
            answer = envelope_answer(ResultCode.INTERNAL_SERVER_ERROR, detail="unexpected server fault")
        body = answer(start_response)
        # A HEAD answer has the headers of the GET one and no body (RFC 9110 9.3.2), as werkzeug sends it.
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body
