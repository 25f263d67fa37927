"""The lean ``/v4`` path: a WSGI layer in front of Flask for the calls integrators make.

Why it exists (performance, issue 7): the ``/v4`` calls are what a load test
hammers, and the benchmark compares ``user/info`` with a bare Flask route under
the same gunicorn config (target: at least 0.7 of its throughput).  Profiles
showed Flask's per-request machinery - request context, URL routing, the
app-wide ``before_request`` hooks, building and finalising a ``Response`` -
costing about as much as the simulator's own work (guards, validation, the
handler, the journal).  None of it does anything for ``/v4``: the paths are a
fixed table (:data:`simulator.api.registry.ENDPOINTS`), the hooks only guard
other prefixes, and the answer is the envelope's bytes.

So a POST whose ``PATH_INFO`` is exactly ``/v4/<endpoint>`` goes straight to
:func:`simulator.api.dispatch.serve` with the raw environ, and its
:class:`~simulator.api.transport.Answer` goes to the server as it is.  Every
other request - every other method, unknown endpoints, ``/v4/``, doubled or
trailing slashes, all of ``/admin``, ``/control``, ``/play``... - passes to
Flask unchanged, where :mod:`simulator.api.routes` gives the same ``serve`` the
``/v4`` ones: one implementation, two doors, the same answers.  Flask's test
client calls ``app.wsgi_app``, so in-process tests go through this layer too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..http import json_error
from ..runtime import Simulator
from .dispatch import serve
from .registry import ENDPOINTS

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class V4Front:
    """``app.wsgi_app = V4Front(app.wsgi_app, sim)``: ``POST /v4/<endpoint>`` without Flask."""

    def __init__(self, app: WsgiApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim
        #: ``PATH_INFO`` -> the endpoint's path in :data:`ENDPOINTS`.
        self.paths = {f"/v4/{path}": path for path in ENDPOINTS}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = self.paths.get(environ.get("PATH_INFO", ""))
        if path is None or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        try:
            answer = serve(self.sim, environ, path)
        except Exception:
            return self._unexpected(environ, start_response)
        return answer(start_response)

    def _unexpected(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """What the app's catch-all error handler answers (``create_app``): a JSON 500, logged."""
        logging.getLogger("simulator").exception("unexpected error on %s", environ.get("PATH_INFO"))
        return json_error("internal error; see the simulator's log", 500)(environ, start_response)
