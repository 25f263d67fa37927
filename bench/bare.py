"""The framework ceiling: bare Flask routes answering the simulator's own JSON bytes.

Served by the simulator's gunicorn config with only the app swapped::

    gunicorn --config gunicorn.conf.py bench.bare:app

so worker class, threads, keep-alive and log level are those of ``make run``.
Each route reads the request body (as the simulator does) and answers fixed
bytes: no guards, no validation, no journal.  The bench captures the bytes
from a running simulator and passes them in ``SCORPIO_BENCH_BODIES`` (a JSON
file ``{path: body}``); without it, the bodies of a fresh simulator are used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from flask import Flask, Response, request

#: What a fresh simulator answers agent demo (user 400000001 is ``test1234``).
DEFAULT_BODIES = {
    "/v4/user/info": '{"code":0,"message":"OK","data":{"name":"test1234","balance":10100}}',
    "/v4/agent/info": (
        '{"code":0,"message":"OK","data":{"name":"demo","currency":1,"balance":1000000,'
        '"win_ratio":95,"rtp":95,"whitelist":[],"client_ip":"127.0.0.1"}}'
    ),
}


def load_bodies() -> dict[str, bytes]:
    path = os.environ.get("SCORPIO_BENCH_BODIES")
    bodies = DEFAULT_BODIES
    if path:
        with open(path) as source:
            bodies = json.load(source)
    return {route: text.encode() for route, text in bodies.items()}


def _view(body: bytes) -> Callable[[], Response]:
    def answer() -> Response:
        request.get_data()
        return Response(body, mimetype="application/json")

    return answer


def create_app() -> Flask:
    app = Flask(__name__)
    for route, body in load_bodies().items():
        app.add_url_rule(route, endpoint=route, view_func=_view(body), methods=["POST"])
    return app


app = create_app()
