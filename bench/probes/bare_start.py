"""The in-process start of the bare Flask app, measured as the pytest plugin measures the simulator's.

Flask and werkzeug are imported first (the plugin's module has imported Flask
before its fixture's clock starts); then the app is built and served by
werkzeug's threaded server on a free loopback port.  Prints ``{"seconds": ...}``.
"""

from __future__ import annotations

import importlib
import json
import socket
import threading
import time

import flask  # noqa: F401 - imported before the clock starts, as in the plugin
from werkzeug.serving import make_server


def main() -> None:
    started = time.perf_counter()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = importlib.import_module("bench.bare").app
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seconds = time.perf_counter() - started
    server.shutdown()
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
