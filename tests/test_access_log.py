"""The access log (kg.web.access_log): through logging, or written in batches as kg serve's
log format would write each line."""

from __future__ import annotations

import io
import logging
import time

import pytest

from kg.web.access_log import AccessLog
from kg.web.server import LOG_FORMAT


def _logger(name: str, level: int = logging.INFO) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(level)
    return logger


def test_batched_lines_are_what_logging_would_write() -> None:
    log = AccessLog(_logger("kg.test.access"))
    stream = io.StringIO()
    log.write_to(stream, every=3600)  # the test flushes itself
    before = time.time()
    log("GET /person/x 200 1.5ms")
    log("GET /person/x 200 kept")
    assert stream.getvalue() == ""  # nothing written until a flush
    log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    formatter = logging.Formatter(LOG_FORMAT)
    for line, message in zip(lines, ["GET /person/x 200 1.5ms", "GET /person/x 200 kept"], strict=True):
        stamp = line[: len("2026-01-01 00:00:00,000")]
        record = logging.LogRecord("kg.test.access", logging.INFO, __file__, 1, message, None, None)
        record.created = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + int(stamp[20:]) / 1000
        record.msecs = int(stamp[20:])
        assert line == formatter.format(record)
        assert abs(record.created - before) < 5
    log.flush()
    assert len(stream.getvalue().splitlines()) == 2  # written once


def test_one_request_is_one_line() -> None:
    log = AccessLog(_logger("kg.test.access2"))
    stream = io.StringIO()
    log.write_to(stream, every=3600)
    log("GET /a\nkg.web GET /forged 200 1.0ms 404 0.2ms")
    log("GET /caf\u00e9 200 kept")
    log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(" GET /a\\nkg.web GET /forged 200 1.0ms 404 0.2ms")
    assert lines[1].endswith(" GET /caf\u00e9 200 kept")


def test_through_logging_until_told_otherwise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kg.test.access3")
    AccessLog(logging.getLogger("kg.test.access3"))("GET /100% 200 kept")
    assert [r.getMessage() for r in caplog.records] == ["GET /100% 200 kept"]


def test_nothing_when_the_logger_is_not_on_info() -> None:
    log = AccessLog(_logger("kg.test.access4", logging.WARNING))
    stream = io.StringIO()
    log.write_to(stream, every=3600)
    log("GET / 200 kept")
    log.flush()
    assert stream.getvalue() == ""


def test_a_stream_that_fails_gives_way_to_logging(caplog: pytest.LogCaptureFixture) -> None:
    """Lines are not piled up in memory for a stream that cannot be written."""
    caplog.set_level(logging.INFO, logger="kg.test.access5")
    log = AccessLog(logging.getLogger("kg.test.access5"))
    stream = io.StringIO()
    stream.close()
    log.write_to(stream, every=0.01)
    log("GET /lost 200 kept")
    deadline = time.monotonic() + 10
    while not caplog.records and time.monotonic() < deadline:
        time.sleep(0.01)
    log("GET /next 200 kept")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("the access log could not be written (I/O operation on closed file")
    assert messages[1:] == ["GET /next 200 kept"]


class _Writes(io.StringIO):
    """A stream that remembers what each flush carried."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self._since = 0

    def flush(self) -> None:
        value = self.getvalue()
        self.writes.append(value[self._since :])
        self._since = len(value)


def test_each_write_is_whole_lines_a_pipe_takes_at_once() -> None:
    """Two granian workers write to one standard error: a write of at most 4096 bytes of
    whole lines reaches a pipe in one piece, so their lines never mix within a line."""
    from kg.web.access_log import ATOMIC_BYTES

    log = AccessLog(_logger("kg.test.access6"))
    stream = _Writes()
    log.write_to(stream, every=3600)
    for n in range(500):
        log(f"GET /person/p{n} 200 kept")
    log("GET /sparql?query=" + "x" * 5000 + " 200 kept")  # a line longer than a write goes alone
    log.flush()
    writes = [w for w in stream.writes if w]
    assert len(writes) > 1 and "".join(writes) == stream.getvalue()
    assert all(w.endswith("\n") for w in writes)
    assert all(len(w.encode()) <= ATOMIC_BYTES for w in writes[:-1]) and writes[-1].count("\n") == 1
    assert len(stream.getvalue().splitlines()) == 501
