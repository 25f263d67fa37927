"""A stub seamless wallet for the seamless-rounds scenario: every callback succeeds after a fixed delay.

``python -m bench.stub_wallet --port 18090 --delay-ms 20``

It answers every request (``authenticate``, ``balance``, ``bet``, ``win``...)
with ``result 0`` and a large balance after ``--delay-ms``, over HTTP/1.1
keep-alive, on one asyncio loop: waiting costs no thread and almost no CPU,
so on a 2-core machine the wallet takes as little as possible from the
simulator it is measuring.  It checks nothing - the reference wallet in
``examples/wallet`` does that; this one only stands for a wallet's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

BODY = b'{"result":0,"status":"OK","data":{"balance":1000000000}}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


def content_length(head: bytes) -> int:
    """The ``Content-Length`` of a request head (0 when absent)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


def wants_close(head: bytes) -> bool:
    return b"\r\nconnection: close" in head.lower()


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = content_length(head)
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            writer.write(RESPONSE)
            await writer.drain()
            if wants_close(head):
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(host: str, port: int, delay: float) -> None:
    server = await asyncio.start_server(
        lambda r, w: serve_connection(r, w, delay), host, port, backlog=1024, reuse_address=True
    )
    print(f"stub wallet on http://{host}:{port}/callback, delay {delay * 1000:.0f} ms", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stub_wallet", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay before every answer")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
