"""Reading one HTTP/1.1 reply off a wallet connection (issue 17): head, framing, decoding.

What ``requests`` and urllib3 did for a callback's reply, and only that: the status line
and headers (``1xx`` interim replies skipped), a body framed by ``Content-Length``,
``chunked`` or the end of the connection, and ``Content-Encoding`` undone (``gzip``,
``deflate``; the request offers those two).  A reply is read up to a limit only: past it
the rest is never read - nor decompressed, so a small gzip bomb costs no more memory than
the limit (issue 15).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

#: Like ``http.client``: the longest head and the most header lines a reply may have.
MAX_HEAD = 65536
MAX_HEADERS = 100
_PIECE = 65536
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,18}")
_ENCODINGS = ("gzip", "x-gzip", "deflate")


class ChunkedEncodingError(ConnectionError):
    """A chunked body that breaks the framing (named as ``requests`` names it in the log)."""


class ContentDecodingError(ConnectionError):
    """A ``gzip``/``deflate`` body that does not decompress (named as ``requests`` names it)."""


class Stream(Protocol):
    """The reading side of a connection (:class:`.transport.Connection`); every read waits at
    most until ``deadline``."""

    def read_until(self, marker: bytes, limit: int, deadline: float) -> bytes: ...

    def read_some(self, most: int, deadline: float) -> bytes: ...

    def buffered(self) -> int: ...

    def take(self, size: int) -> bytes: ...


@dataclass(frozen=True)
class RawReply:
    status: int
    body: bytes
    #: The reply was longer than the limit: ``body`` holds what was read before giving up.
    too_big: bool


@dataclass
class _Head:
    status: int
    version: str
    #: Header names in lower case; a repeated header's values joined with ", ".
    headers: dict[str, str]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection")
        if connection is None:
            return self.version != "HTTP/1.0"
        tokens = _tokens(connection)
        return "keep-alive" in tokens if self.version == "HTTP/1.0" else "close" not in tokens


def _tokens(value: str) -> list[str]:
    return [token.strip().lower() for token in value.split(",") if token.strip()]


def read_reply(stream: Stream, deadline: float, limit: int) -> tuple[RawReply, bool]:
    """The reply, and whether the connection may carry another exchange."""
    head = _read_head(stream, deadline)
    status, headers = head.status, head.headers
    if status in (204, 304) or status < 200:
        return RawReply(status, b"", False), head.keep_alive and status != 101
    codings = [c for c in _tokens(headers.get("content-encoding", "")) if c in _ENCODINGS]
    transfer = headers.get("transfer-encoding")
    declared = headers.get("content-length")
    if transfer is not None and _tokens(transfer)[-1:] == ["chunked"]:
        pieces, delimited = _chunks(stream, deadline), True
    elif declared is not None:
        length = _content_length(declared)
        if length > limit:
            return RawReply(status, b"", True), False
        if not codings and stream.buffered() >= length:  # the usual small reply: read whole already
            return RawReply(status, stream.take(length), False), head.keep_alive
        pieces, delimited = _exactly(stream, length, deadline), True
    else:
        pieces, delimited = _to_close(stream, deadline), False
    steps = [_Undo(coding) for coding in reversed(codings)]  # listed in the order applied
    body: list[bytes] = []
    size = 0
    for piece in pieces:
        for step in steps:
            piece = step.feed(piece, limit - size + 1)
        size += len(piece)
        if size > limit:
            return RawReply(status, b"".join(body), True), False
        body.append(piece)
    return RawReply(status, b"".join(body), False), delimited and head.keep_alive


def _read_head(stream: Stream, deadline: float) -> _Head:
    """Status line and headers, skipping ``1xx`` interim replies (``100 Continue``)."""
    while True:
        raw = stream.read_until(b"\r\n\r\n", MAX_HEAD, deadline)
        lines = raw[:-4].decode("iso-8859-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3 or not (code.isascii() and code.isdigit()):
            raise ConnectionError(f"not an HTTP status line: {lines[0][:80]!r}")
        if len(lines) > MAX_HEADERS + 1:
            raise ConnectionError("too many reply headers")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                continue  # like http.client: a line without a colon is ignored
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        status = int(code)
        if not (100 <= status < 200 and status != 101):
            return _Head(status, version, headers)


def _content_length(declared: str) -> int:
    if declared.isascii() and declared.isdigit() and len(declared) <= 18:
        return int(declared)
    values = {value.strip() for value in declared.split(",")}  # "12, 12" from a repeated header
    if len(values) != 1 or not _DIGITS.fullmatch(next(iter(values))):
        raise ConnectionError(f"bad Content-Length {declared!r}")
    return int(values.pop())


def _exactly(stream: Stream, length: int, deadline: float) -> Iterator[bytes]:
    while length:
        piece = stream.read_some(min(length, _PIECE), deadline)
        if not piece:
            raise ConnectionError("the wallet closed the connection before the reply was whole")
        length -= len(piece)
        yield piece


def _to_close(stream: Stream, deadline: float) -> Iterator[bytes]:
    while piece := stream.read_some(_PIECE, deadline):
        yield piece


def _chunks(stream: Stream, deadline: float) -> Iterator[bytes]:
    while True:
        line = stream.read_until(b"\r\n", MAX_HEAD, deadline)
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise ChunkedEncodingError(f"bad chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            while stream.read_until(b"\r\n", MAX_HEAD, deadline) != b"\r\n":
                pass  # trailer fields, ignored
            return
        yield from _exactly(stream, size, deadline)
        if stream.read_until(b"\r\n", MAX_HEAD, deadline) != b"\r\n":
            raise ChunkedEncodingError("a chunk is longer than its size")


class _Undo:
    """One ``Content-Encoding`` undone as the body arrives, as urllib3 did: ``gzip`` (several
    members too) or ``deflate`` (zlib-wrapped as the RFC says, or raw as some servers send it)."""

    __slots__ = ("_wbits", "_zlib", "_seen", "_ended")

    def __init__(self, coding: str) -> None:
        self._wbits = zlib.MAX_WBITS if coding == "deflate" else 16 + zlib.MAX_WBITS
        self._zlib: zlib._Decompress | None = None
        #: deflate, before any output: the bytes so far, to start again as raw deflate.
        self._seen: bytes | None = b"" if coding == "deflate" else None
        #: gzip: what follows the last whole member is not one (padding): ignored, as urllib3 did.
        self._ended = False

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` bytes of output; exactly ``room`` when there would be more."""
        try:
            if self._seen is not None:
                return self._first_deflate(data, room)
            return self._undo(data, room)
        except zlib.error as exc:
            raise ContentDecodingError(f"the body does not decompress: {exc}") from None

    def _undo(self, data: bytes, room: int) -> bytes:
        gzip = self._wbits > zlib.MAX_WBITS
        out = b""
        while data and len(out) < room and not self._ended:
            another = self._zlib is not None and self._zlib.eof  # gzip: the next member
            if self._zlib is None or (another and gzip):
                self._zlib = zlib.decompressobj(self._wbits)
            try:
                out += self._zlib.decompress(data, room - len(out))
            except zlib.error:
                if not another:
                    raise
                self._ended = True
            data = self._zlib.unused_data if self._zlib.eof and gzip else b""
        return out

    def _first_deflate(self, data: bytes, room: int) -> bytes:
        assert self._seen is not None
        self._seen += data
        try:
            out = self._undo(data, room)
        except zlib.error:
            self._wbits, self._zlib = -zlib.MAX_WBITS, None
            out = self._undo(self._seen, room)
        if out:
            self._seen = None
        return out
