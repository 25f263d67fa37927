"""Logging for the server: request threads hand records to a queue, one thread writes them in batches.

At the default ``info`` level every ``/v4`` request logs a line.  With a plain
stream handler each of the worker's threads formats and writes under the
handler's lock, and under load most of them wait on that lock (measured: the
logging lock was the largest item of a ``user/info`` profile at 50
connections).  So a request thread only puts its record on a queue
(:class:`_Enqueue`, no lock and no formatting), and :class:`LogWriter`'s
thread formats and writes them, in order, to stderr.

The writer takes a batch at a time: woken by a record, it waits
:data:`BATCH_WAIT_S` for the rest of a burst, then writes everything queued in
one ``write``.  Under load that is a few wakeups and writes a second instead
of one of each per request - measured, a thread woken and a line written per
request cost a ``user/info`` server at 50 connections 13 % of its throughput.
A line reaches stderr at most that long after it was logged; its time stamp
is the record's own.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: How long the writer lets a burst of records gather before it writes them.
BATCH_WAIT_S = 0.05

#: Put on the queue by :meth:`LogWriter.stop`: the writer writes what came before it and ends.
_STOP = logging.makeLogRecord({"msg": "stop"})


class _Enqueue(logging.Handler):
    """Hands a record to the writer's queue as it is: formatting waits for the writer's thread."""

    def __init__(self, records: queue.SimpleQueue[logging.LogRecord]) -> None:
        super().__init__()
        self._records = records

    def handle(self, record: logging.LogRecord) -> bool:
        self._records.put(record)  # no handler lock: the queue is thread-safe
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


class LogWriter:
    """The thread that writes queued records in batches; :meth:`stop` flushes them and may be called twice."""

    def __init__(
        self,
        records: queue.SimpleQueue[logging.LogRecord],
        stream: TextIO | None = None,
        wait: float = BATCH_WAIT_S,
    ) -> None:
        self._records = records
        self._stream = stream
        self._wait = wait
        self._format = logging.Formatter(FORMAT).format
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scorpio-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._records.get()]
            if batch[0] is not _STOP:
                self._stopping.wait(self._wait)  # the rest of a burst joins this write
            while batch[-1] is not _STOP:
                try:
                    batch.append(self._records.get_nowait())
                except queue.Empty:
                    break
            done = batch[-1] is _STOP
            self._write([record for record in batch if record is not _STOP])
            if done:
                return

    def _write(self, records: list[logging.LogRecord]) -> None:
        if not records:
            return
        lines = []
        for record in records:
            try:
                lines.append(self._format(record) + "\n")
            except Exception:  # a record whose message cannot be formatted: say so, go on
                lines.append(f"unformattable log record {record.msg!r} {record.args!r}\n")
        stream = self._stream or sys.stderr
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # stderr closed (the process is going away)
            pass

    def stop(self) -> None:
        """Write every record logged so far and end the thread."""
        with self._lock:
            if self._thread.is_alive():
                self._stopping.set()
                self._records.put(_STOP)
                self._thread.join()


def configure_logging(level: str) -> LogWriter:
    """Route the root logger through a queue to stderr; flushed at interpreter exit."""
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_Enqueue(records))
    root.setLevel(level.upper())
    writer = LogWriter(records)
    atexit.register(writer.stop)
    return writer
