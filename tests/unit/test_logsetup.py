"""Server logging goes through a queue: request threads enqueue, one thread writes batches to stderr."""

from __future__ import annotations

import io
import logging
import os
import queue
import sys

import pytest

from simulator import logsetup
from simulator.logsetup import FORMAT, Lines, LogWriter, QuickLog, _Enqueue, _LineFormatter, configure_logging


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def server_logging():
    """Undoes ``configure_logging`` after the test: its handler, level and process-wide switches."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    switches = {name: getattr(logging, name) for name in ("_srcfile", "logThreads", "logMultiprocessing")}
    queued = logsetup._QUEUED
    writers: list[LogWriter] = []

    def configure() -> LogWriter:
        writers.append(configure_logging("info"))
        return writers[-1]

    try:
        yield configure
    finally:
        for writer in writers:
            writer.stop()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, value in switches.items():
            setattr(logging, name, value)
        logsetup._QUEUED = queued


def test_records_reach_stderr_through_the_queue(server_logging, capfd):
    writer = server_logging()
    assert [type(h) for h in logging.getLogger().handlers] == [_Enqueue]
    logging.getLogger("simulator").info("agent=%s path=%s code=%d", "demo", "/v4/user/info", 0)
    writer.stop()
    assert "INFO simulator: agent=demo path=/v4/user/info code=0" in capfd.readouterr().err


def test_a_server_record_skips_what_no_format_shows_but_keeps_the_process(server_logging):
    server_logging()
    record = logging.getLogger("simulator").makeRecord("simulator", logging.INFO, "", 0, "line", (), None)
    assert (record.threadName, record.processName) == (None, None)
    assert record.process == os.getpid()  # gunicorn's own lines show it
    assert logging._srcfile is None  # no walk up the stack for the caller's file and line


def _writer_and_logger(name: str, wait: float) -> tuple[LogWriter, logging.Logger, CountingStream]:
    lines: Lines = queue.SimpleQueue()
    stream = CountingStream()
    logger = logging.getLogger(f"test.logsetup.{name}")
    logger.propagate = False
    logger.handlers[:] = [_Enqueue(lines)]
    logger.setLevel(logging.INFO)
    return LogWriter(lines, stream, wait=wait), logger, stream


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


def _record(created: float, level: int = logging.INFO, exc_info: object = None) -> logging.LogRecord:
    record = logging.getLogger("simulator.api").makeRecord(
        "simulator.api",
        level,
        "",
        0,
        "agent=%s path=%s code=%d ms=%.1f",
        ("demo", "/v4/ü", 1018, 0.25),
        exc_info,
    )
    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
    return record


def test_a_line_reads_as_the_standard_formatter_writes_it_across_seconds_and_levels():
    standard, ours = logging.Formatter(FORMAT), _LineFormatter()
    for created, level in [
        (1_768_305_600.0, 20),
        (1_768_305_600.999, 30),
        (1_768_305_601.5, 40),
        (1_768_305_600.2, 20),
    ]:
        assert ours.format(_record(created, level)) == standard.format(_record(created, level))


def test_a_line_with_an_exception_reads_as_the_standard_formatter_writes_it():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    standard, ours = logging.Formatter(FORMAT), _LineFormatter()
    assert ours.format(_record(1_768_305_600.5, 40, exc_info)) == standard.format(
        _record(1_768_305_600.5, 40, exc_info)
    )


def _lines_without_time(text: str) -> list[str]:
    return [line[24:] for line in text.splitlines() if line]  # "2026-12-03 00:10:25,123 " is 24 characters


def test_a_quick_line_reads_as_the_loggers_own_line(server_logging, capfd):
    writer = server_logging()
    args = ("demo", "/v4/user/info", 0, 0.4)
    QuickLog("simulator.api").info("agent=%s path=%s code=%d ms=%.1f", *args)
    logging.getLogger("simulator.api").info("agent=%s path=%s code=%d ms=%.1f", *args)
    writer.stop()
    err = capfd.readouterr().err
    quick, own = _lines_without_time(err)
    assert quick == own == "INFO simulator.api: agent=demo path=/v4/user/info code=0 ms=0.4"
    assert err[:4].isdigit() and err[19] == ","


def test_a_quick_line_goes_through_the_logger_when_another_handler_listens(server_logging, caplog):
    server_logging()  # takes every handler off the root logger, pytest's too: put it back
    logging.getLogger().addHandler(caplog.handler)
    QuickLog("simulator.api").info("agent=%s", "demo")
    assert [record.getMessage() for record in caplog.records] == ["agent=demo"]


def test_a_quick_line_below_the_level_is_not_written(server_logging, capfd):
    writer = server_logging()
    logging.getLogger().setLevel(logging.WARNING)
    QuickLog("simulator.api").info("agent=%s", "demo")
    writer.stop()
    assert "agent=demo" not in capfd.readouterr().err


def test_a_quick_line_whose_message_cannot_be_formatted_is_reported_not_raised(server_logging, capfd):
    writer = server_logging()
    QuickLog("simulator.api").info("agent=%d", "not a number")
    writer.stop()
    assert "unformattable log record 'agent=%d' ('not a number',)" in capfd.readouterr().err
