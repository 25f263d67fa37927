"""Server logging goes through a queue: request threads enqueue, one thread writes batches to stderr."""

from __future__ import annotations

import io
import logging
import queue

from simulator.logsetup import LogWriter, _Enqueue, configure_logging


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_records_reach_stderr_through_the_queue(capfd):
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        writer = configure_logging("info")
        assert [type(h) for h in root.handlers] == [_Enqueue]
        logging.getLogger("simulator").info("agent=%s path=%s code=%d", "demo", "/v4/user/info", 0)
        writer.stop()
        assert "INFO simulator: agent=demo path=/v4/user/info code=0" in capfd.readouterr().err
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def _writer_and_logger(name: str, wait: float) -> tuple[LogWriter, logging.Logger, CountingStream]:
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = CountingStream()
    logger = logging.getLogger(f"test.logsetup.{name}")
    logger.propagate = False
    logger.handlers[:] = [_Enqueue(records)]
    logger.setLevel(logging.INFO)
    return LogWriter(records, stream, wait=wait), logger, stream


def test_a_burst_of_lines_is_written_whole_and_in_order_in_a_few_writes():
    writer, logger, stream = _writer_and_logger("burst", wait=0.2)
    for n in range(500):
        logger.info("call %d", n)
    writer.stop()
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [str(n) for n in range(500)]
    assert stream.writes <= 3


def test_stop_writes_what_was_logged_and_may_be_called_twice():
    writer, logger, stream = _writer_and_logger("stop", wait=60)
    logger.warning("last words")
    writer.stop()
    writer.stop()
    assert stream.getvalue().endswith("WARNING test.logsetup.stop: last words\n")


def test_an_exception_is_written_with_its_traceback():
    writer, logger, stream = _writer_and_logger("exc", wait=0)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("internal error on /v4/user/info")
    writer.stop()
    assert "internal error on /v4/user/info\nTraceback" in stream.getvalue()
    assert "ValueError: boom" in stream.getvalue()
