"""Server logging goes through a queue: request threads enqueue, one thread writes to stderr."""

from __future__ import annotations

import logging
import logging.handlers

from simulator.logsetup import configure_logging


def test_records_reach_stderr_through_the_queue(capfd):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        listener = configure_logging("info")
        assert [type(h) for h in root.handlers] == [logging.handlers.QueueHandler]
        logging.getLogger("simulator").info("agent=%s path=%s code=%d", "demo", "/v4/user/info", 0)
        listener.stop()
        assert "INFO simulator: agent=demo path=/v4/user/info code=0" in capfd.readouterr().err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
