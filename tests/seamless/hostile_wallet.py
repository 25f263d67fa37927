"""A hostile seamless wallet, in a process of its own (issue 15).

``python -m tests.seamless.hostile_wallet`` listens on a free loopback port, prints it, and
answers every callback with ``--megabytes`` MB of JSON-looking bytes, streamed without a
``Content-Length`` (so only reading can tell how long the reply is) until the platform hangs
up.  Run as another process so that its own memory never counts in the platform's.
Every connection is answered once and closed; the process ends when its stdin closes.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading

CHUNK = b" " * (64 * 1024)


def _read_request(conn: socket.socket) -> None:
    """Read headers and a Content-Length body (the platform always sends one)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            return
        body += piece


def _answer(conn: socket.socket, size: int) -> None:
    with conn:
        try:
            _read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            conn.sendall(b'{"result": 0, "status": "OK", "pad": "')
            sent = 0
            while sent < size:
                conn.sendall(CHUNK)
                sent += len(CHUNK)
            conn.sendall(b'"}')
        except OSError:
            pass  # the platform stopped reading and hung up: what it should do


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_answer, args=(conn, args.megabytes << 20), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin


if __name__ == "__main__":
    main()
