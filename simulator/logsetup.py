"""Logging for the server: request threads queue formatted lines, one thread writes them in batches.

At the default ``info`` level every ``/v4`` request logs a line.  With a plain
stream handler each of the worker's threads formats and writes under the
handler's lock, and under load most of them wait on that lock (measured: the
logging lock was the largest item of a ``user/info`` profile at 50
connections).  So a request thread formats its record - a formatter needs no
lock - and only puts the line on a queue (:class:`_Enqueue`), and
:class:`LogWriter`'s thread writes the lines, in order, to stderr.

The queue holds lines, not records (issue 17): a record waiting there is a
handful of objects the garbage collector scans again and again until the
writer has formatted it - measured, the records of a 50 ms batch made young
collections nearly three times as many, and full ones (a pause of tens of
milliseconds for every thread) three times as frequent.  A line is one
string, which the collector never scans.

The writer takes a batch at a time: woken by a line, it waits
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
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: How long the writer lets a burst of lines gather before it writes them.
BATCH_WAIT_S = 0.05

#: The queue between the request threads and the writer: lines, and ``None`` to stop it.
Lines = queue.SimpleQueue[str | None]


class _LineFormatter(logging.Formatter):
    """:data:`FORMAT` with less work per line, the same text: the date and time of day are
    formatted once a second, and a line without exception or stack is assembled at once."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self.time_of(record.created, record.msecs)

    def time_of(self, created: float, msecs: float) -> str:
        """``%(asctime)s`` of a record made at ``created`` (``time.time()``) with these ``msecs``."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            text = time.strftime(self.default_time_format, self.converter(created))
            cached = self._second = (second, text)
        return f"{cached[1]},{int(msecs):03d}"  # logging's default_msec_format, "%s,%03d"

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        record.asctime = self.formatTime(record)
        return line_of(record.asctime, record.levelname, record.name, record.message)


def line_of(asctime: str, levelname: str, name: str, message: str) -> str:
    """:data:`FORMAT` filled in: the one place a server line is assembled."""
    return f"{asctime!s} {levelname!s} {name!s}: {message!s}"


class _Enqueue(logging.Handler):
    """Formats a record in the thread that logs it and hands the line to the writer's queue."""

    def __init__(self, lines: Lines) -> None:
        super().__init__()
        self._lines = lines
        self.setFormatter(_LineFormatter())

    def handle(self, record: logging.LogRecord) -> bool:
        try:
            line = self.format(record) + "\n"
        except Exception:  # a record whose message cannot be formatted: say so, go on
            line = f"unformattable log record {record.msg!r} {record.args!r}\n"
        self._lines.put(line)  # no handler lock: the queue is thread-safe
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def put_line(self, levelname: str, name: str, message: str) -> None:
        """The line :meth:`handle` would queue for a plain record of ``name`` at the level
        ``levelname`` with this ``message``, made without the record."""
        created = time.time()  # as LogRecord takes its created and msecs (Python 3.11)
        asctime = self.formatter.time_of(created, (created - int(created)) * 1000)  # type: ignore[union-attr]
        self._lines.put(line_of(asctime, levelname, name, message) + "\n")


#: The handler :func:`configure_logging` installed on the root logger (None before).
_QUEUED: _Enqueue | None = None


class QuickLog:
    """A logger's lines for the hot path: the very line the logger would write, without the
    :class:`logging.LogRecord`, whenever nothing but :func:`configure_logging`'s handler would
    see it; otherwise the logger's own call, so levels, handlers added later (pytest's
    ``caplog``) and filters work as ever.

    Why (issue 17): a ``/v4`` call logs one line, and the record's making - a dozen attributes,
    the handler chain - measured about a tenth of a ``user/info``'s cost at 50 connections:
    the simulator served 1.10 x bare Flask's requests without the line, 0.90-0.94 x with it.
    """

    __slots__ = ("logger",)

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)

    def info(self, msg: str, *args: object) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        queued = _QUEUED
        if queued is None or not _only_through(logger, queued):
            logger.info(msg, *args)
            return
        try:
            message = msg % args if args else msg
        except Exception:  # the logger's own call says what was wrong with it
            logger.info(msg, *args)
            return
        queued.put_line("INFO", logger.name, message)


def _only_through(logger: logging.Logger, handler: _Enqueue) -> bool:
    """Whether a record of ``logger`` would meet ``handler`` alone, unfiltered and unchanged."""
    if handler.filters or handler.level > logging.INFO:
        return False
    if logging.getLogRecordFactory() is not logging.LogRecord:  # a factory may add to the record
        return False
    node: logging.Logger | None = logger
    while node is not None:
        if node.filters:
            return False
        if node.parent is None:  # the root
            return node.handlers == [handler]
        if node.handlers:
            return False
        if not node.propagate:
            return False
        node = node.parent
    return False


class LogWriter:
    """The thread that writes queued lines in batches; :meth:`stop` flushes them and may be called twice."""

    def __init__(self, lines: Lines, stream: TextIO | None = None, wait: float = BATCH_WAIT_S) -> None:
        self._lines = lines
        self._stream = stream
        self._wait = wait
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scorpio-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._lines.get()]
            if batch[0] is not None:
                self._stopping.wait(self._wait)  # the rest of a burst joins this write
            while batch[-1] is not None:
                try:
                    batch.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            done = batch[-1] is None
            self._write([line for line in batch if line is not None])
            if done:
                return

    def _write(self, lines: list[str]) -> None:
        if not lines:
            return
        stream = self._stream or sys.stderr
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # stderr closed (the process is going away)
            pass

    def stop(self) -> None:
        """Write every line logged so far and end the thread."""
        with self._lock:
            if self._thread.is_alive():
                self._stopping.set()
                self._lines.put(None)
                self._thread.join()


def configure_logging(level: str) -> LogWriter:
    """Route the root logger through a queue to stderr; flushed at interpreter exit.

    A record also skips what no format of the server shows (:data:`FORMAT`, and gunicorn's
    ``[%(process)d]``): the caller's file, line and function (a walk up the stack), the thread's
    name and the process's name - half of what creating a request's record cost (issue 17).
    """
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
    lines: Lines = queue.SimpleQueue()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    global _QUEUED
    _QUEUED = _Enqueue(lines)
    root.addHandler(_QUEUED)
    root.setLevel(level.upper())
    writer = LogWriter(lines)
    atexit.register(writer.stop)
    return writer
