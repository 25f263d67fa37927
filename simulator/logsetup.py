"""Logging for the server: request threads hand records to a queue, one thread writes them.

At the default ``info`` level every ``/v4`` request logs a line.  With a plain
stream handler each of the worker's threads formats and writes under the
handler's lock, and under load most of them wait on that lock (measured: the
logging lock was the largest item of a ``user/info`` profile at 50
connections).  A :class:`~logging.handlers.QueueHandler` makes the request
thread's part an enqueue; a :class:`~logging.handlers.QueueListener` writes
the lines, in order, to stderr.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import threading

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogWriter:
    """The thread that writes queued records; :meth:`stop` flushes them and may be called twice."""

    def __init__(self, listener: logging.handlers.QueueListener) -> None:
        self._listener = listener
        self._lock = threading.Lock()
        self._running = True

    def stop(self) -> None:
        with self._lock:
            if self._running:
                self._running = False
                self._listener.stop()


def configure_logging(level: str) -> LogWriter:
    """Route the root logger through a queue to stderr; flushed at interpreter exit."""
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(FORMAT))
    listener = logging.handlers.QueueListener(records, stream)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(records))
    root.setLevel(level.upper())
    listener.start()
    writer = LogWriter(listener)
    atexit.register(writer.stop)
    return writer
