"""The lean callback transport (issue 17): what it sends, keep-alive reuse, and reading replies.

A raw socket server stands for the wallet, so each test controls the reply's bytes exactly
(framing, ``Connection`` headers, closing the socket) and sees the request's bytes exactly.
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from simulator.seamless.client import failure_text
from simulator.seamless.replies import read_reply
from simulator.seamless.transport import Connections, Origin
from simulator.seamless.wire import InvalidHeader, route_for

BODY = b'{"result":0,"status":"OK","data":{"balance":100}}'
PAYLOAD = b'{"command":"balance","check":"21,22","data":{"account":"player1"}}'
TOKEN = "3c1d5e02-5a8f-4d0b-9a64-7f2e1b6c9d40"
LIMIT = 1 << 20


def reply(body: bytes = BODY, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers) or f"Content-Length: {len(body)}\r\n"
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head.encode() + b"\r\n" + body


@dataclass
class RawWallet:
    """Answers each request with ``answer(request_bytes)``; closes when ``close_after`` says so."""

    answer: Callable[[bytes], bytes] = lambda request: reply()
    close_after: bool = False
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    port: int = 0

    @property
    def origin(self) -> Origin:
        return Origin("http", "127.0.0.1", self.port)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                buffer = rest[length:]
                conn.sendall(self.answer(self.requests[-1]))
                if self.close_after:
                    return


@contextlib.contextmanager
def running_wallet() -> Iterator[RawWallet]:
    wallet = RawWallet()
    listener = socket.create_server(("127.0.0.1", 0))
    wallet.port = listener.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            wallet.connections += 1
            threading.Thread(target=wallet.serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield wallet
    finally:
        listener.close()


@pytest.fixture
def raw_wallet() -> Iterator[RawWallet]:
    with running_wallet() as wallet:
        yield wallet


def post(pool: Connections, wallet: RawWallet, seconds: float = 2.0):  # noqa: ANN201 - a RawReply
    route = route_for(f"http://127.0.0.1:{wallet.port}/callback")
    assert route is not None
    return pool.post(wallet.origin, route.request(TOKEN, PAYLOAD), time.monotonic() + seconds, LIMIT)


# -- what goes on the wire ---------------------------------------------------------------------
def test_the_request_is_byte_for_byte_what_requests_sent(raw_wallet):
    url = f"http://127.0.0.1:{raw_wallet.port}/callback"
    session = requests.Session()
    session.trust_env = False
    headers = {"Callback-Token": TOKEN, "Content-Type": "application/json", "Accept": "application/json"}
    session.post(url, data=PAYLOAD, headers=headers, timeout=5)
    post(Connections(), raw_wallet)
    sent_by_requests, sent_here = raw_wallet.requests
    assert sent_here == sent_by_requests


def test_a_token_that_cannot_be_a_header_value_is_refused_before_sending():
    route = route_for("http://127.0.0.1:9/callback")
    assert route is not None
    with pytest.raises(InvalidHeader):
        route.request("token\r\nX-Injected: 1", PAYLOAD)


# -- keep-alive --------------------------------------------------------------------------------
def test_a_kept_alive_connection_carries_the_next_callback(raw_wallet):
    pool = Connections()
    post(pool, raw_wallet)
    post(pool, raw_wallet)
    assert raw_wallet.connections == 1


def test_a_connection_the_wallet_closed_is_replaced_before_it_is_used(raw_wallet):
    raw_wallet.close_after = True  # closes after each reply, without saying so
    pool = Connections()
    post(pool, raw_wallet)
    time.sleep(0.05)  # the wallet's FIN arrives
    assert post(pool, raw_wallet).body == BODY
    assert raw_wallet.connections == 2


def test_a_reply_saying_connection_close_ends_the_connection(raw_wallet):
    raw_wallet.answer = lambda request: reply(BODY, f"Content-Length: {len(BODY)}", "Connection: close")
    pool = Connections()
    post(pool, raw_wallet)
    assert pool.idle_count(raw_wallet.origin) == 0


def test_an_http_1_0_reply_without_keep_alive_ends_the_connection(raw_wallet):
    raw_wallet.answer = lambda request: reply().replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    pool = Connections()
    post(pool, raw_wallet)
    assert pool.idle_count(raw_wallet.origin) == 0


# -- reading replies ---------------------------------------------------------------------------
def test_a_chunked_reply_is_read_whole(raw_wallet):
    chunked = (
        b"10\r\n"
        + BODY[:16]
        + b"\r\n"
        + f"{len(BODY) - 16:x}".encode()
        + b"\r\n"
        + BODY[16:]
        + b"\r\n0\r\n\r\n"
    )
    raw_wallet.answer = lambda request: reply(chunked, "Transfer-Encoding: chunked")
    assert post(Connections(), raw_wallet).body == BODY


def test_a_gzip_reply_is_decoded(raw_wallet):
    packed = gzip.compress(BODY)
    raw_wallet.answer = lambda request: reply(
        packed, f"Content-Length: {len(packed)}", "Content-Encoding: gzip"
    )
    assert post(Connections(), raw_wallet).body == BODY


def test_a_raw_deflate_reply_is_decoded(raw_wallet):
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    packed = compressor.compress(BODY) + compressor.flush()
    raw_wallet.answer = lambda request: reply(
        packed, f"Content-Length: {len(packed)}", "Content-Encoding: deflate"
    )
    assert post(Connections(), raw_wallet).body == BODY


def test_a_reply_without_a_length_is_read_to_the_close(raw_wallet):
    raw_wallet.answer = lambda request: reply(BODY, "Connection: close")
    raw_wallet.close_after = True
    assert post(Connections(), raw_wallet).body == BODY


def test_an_interim_100_continue_is_skipped(raw_wallet):
    raw_wallet.answer = lambda request: b"HTTP/1.1 100 Continue\r\n\r\n" + reply()
    assert post(Connections(), raw_wallet).body == BODY


def test_a_reply_larger_than_the_limit_is_cut_and_its_connection_closed(raw_wallet):
    big = b" " * (LIMIT + 1)
    raw_wallet.answer = lambda request: reply(big, "Transfer-Encoding: chunked").replace(
        big, f"{len(big):x}\r\n".encode() + big + b"\r\n0\r\n\r\n"
    )
    pool = Connections()
    assert post(pool, raw_wallet).too_big
    assert pool.idle_count(raw_wallet.origin) == 0


def test_a_gzip_bomb_is_cut_at_the_limit(raw_wallet):
    packed = gzip.compress(b"0" * (8 * LIMIT))
    raw_wallet.answer = lambda request: reply(
        packed, f"Content-Length: {len(packed)}", "Content-Encoding: gzip"
    )
    result = post(Connections(), raw_wallet)
    assert result.too_big and len(result.body) <= LIMIT


# -- failures ----------------------------------------------------------------------------------
def test_a_wallet_that_never_answers_times_out_at_the_deadline(raw_wallet):
    raw_wallet.answer = lambda request: time.sleep(2) or reply()
    with pytest.raises(TimeoutError) as caught:
        post(Connections(), raw_wallet, seconds=0.2)
    assert failure_text(caught.value) == "timed out"


def test_a_refused_connection_is_a_connection_failure():
    with socket.create_server(("127.0.0.1", 0)) as spare:
        port = spare.getsockname()[1]  # closed again when the block ends: nothing listens there
    route = route_for(f"http://127.0.0.1:{port}/callback")
    assert route is not None
    with pytest.raises(OSError) as caught:
        Connections().post(route.origin, route.request(TOKEN, PAYLOAD), time.monotonic() + 2, LIMIT)
    assert failure_text(caught.value) == "connection failed: ConnectionError"


def test_garbage_instead_of_a_status_line_is_a_connection_failure(raw_wallet):
    raw_wallet.answer = lambda request: b"<html>oops</html>\r\n\r\n"
    with pytest.raises(ConnectionError) as caught:
        post(Connections(), raw_wallet)
    assert failure_text(caught.value) == "connection failed: ConnectionError"


# -- https -------------------------------------------------------------------------------------
@pytest.fixture
def tls_wallet(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A one-reply-per-connection TLS wallet with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    wallet = RawWallet()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
                wallet.serve(server.wrap_socket(conn, server_side=True))
            except (OSError, ssl.SSLError):
                if listener.fileno() == -1:
                    return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], cert
    finally:
        listener.close()


def test_an_https_wallet_is_called_over_verified_tls(tls_wallet):
    port, cert = tls_wallet
    route = route_for(f"https://127.0.0.1:{port}/callback")
    assert route is not None
    pool = Connections(tls=lambda: ssl.create_default_context(cafile=str(cert)))
    assert pool.post(route.origin, route.request(TOKEN, PAYLOAD), time.monotonic() + 5, LIMIT).body == BODY


def test_an_https_wallet_with_an_unknown_certificate_is_refused(tls_wallet):
    port, _ = tls_wallet
    route = route_for(f"https://127.0.0.1:{port}/callback")
    assert route is not None
    with pytest.raises(ssl.SSLError) as caught:
        Connections().post(route.origin, route.request(TOKEN, PAYLOAD), time.monotonic() + 5, LIMIT)
    assert failure_text(caught.value) == "connection failed: SSLError"


def test_only_the_wallets_called_last_keep_idle_connections(raw_wallet):
    pool = Connections(origins=1)
    post(pool, raw_wallet)
    with running_wallet() as other:
        post(pool, other)
        assert (pool.idle_count(raw_wallet.origin), pool.idle_count(other.origin)) == (0, 1)


def test_a_reply_in_two_gzip_members_is_decoded_whole(raw_wallet):
    packed = gzip.compress(BODY[:20]) + gzip.compress(BODY[20:])
    raw_wallet.answer = lambda request: reply(
        packed, f"Content-Length: {len(packed)}", "Content-Encoding: gzip"
    )
    assert post(Connections(), raw_wallet).body == BODY


def test_a_json_reply_starting_with_a_utf8_bom_is_read():
    assert read_reply(200, b"\xef\xbb\xbf" + BODY, needs_balance=True).balance == 100


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("http://Example.COM:80/a b?x=1", b"POST /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\n"),
        ("https://wallet.example", b"POST / HTTP/1.1\r\nHost: wallet.example\r\n"),
        ("http://[::1]:8090/cb", b"POST /cb HTTP/1.1\r\nHost: [::1]:8090\r\n"),
    ],
)
def test_the_request_line_and_host_are_written_as_requests_prepared_them(url, start):
    route = route_for(url)
    assert route is not None and route.prefix.startswith(start)
