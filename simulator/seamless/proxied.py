"""Callbacks the lean transport leaves to ``requests``: behind a proxy, credentials in the URL,
URLs that do not prepare, and URLs a test mounted a ``requests`` adapter for.

This is the path every callback took before issue 17, unchanged: one pooled session that
reads nothing from the environment per call (proxies and the CA bundle are looked up once
per host), the whole-exchange deadline of :mod:`.deadline`, and replies read up to the limit
only.  It is rare, so its cost does not matter; that it behaves as it always did does.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from .deadline import DeadlineAdapter, exchange_within
from .wire import environment_proxies

_CHUNK = 64 * 1024


@functools.cache
def ca_bundle() -> str | bool:
    """The CA bundle requests would use from the environment, else its default (verify on)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def _read_bounded(response: requests.Response, limit: int) -> tuple[bytes, bool]:
    """``(body, too_big)``: at most ``limit`` bytes read; a longer reply's connection is
    closed rather than drained, and a complete one goes back to the pool."""
    if response.raw is None:  # an adapter that answers with the body already read (tests, mocks)
        content = response.content
        return content[:limit], len(content) > limit
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.raw.close()
        return b"", True
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.raw.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                response.raw.close()
                return b"".join(chunks), True
            chunks.append(chunk)
    except BaseException:
        response.raw.close()  # a half-read connection never goes back to the pool
        raise
    response.raw.release_conn()
    return b"".join(chunks), False


class ProxiedSession:
    """One ``requests`` session for the callbacks that go through it."""

    def __init__(self, pool_size: int) -> None:
        self.session = requests.Session()
        # The environment (proxies, CA bundle) is read once per wallet address, not on
        # every callback: requests would otherwise look up proxies, .netrc and the CA
        # bundle for each call.
        self.session.trust_env = False
        self.default_adapter = DeadlineAdapter(pool_connections=16, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", self.default_adapter)
        self.session.mount("https://", self.default_adapter)

    def mounted(self, url: str) -> bool:
        """Whether a test or an in-process wallet mounted its own adapter for ``url``."""
        try:
            return self.session.get_adapter(url) is not self.default_adapter
        except requests.exceptions.InvalidSchema:
            return False

    def post(
        self, url: str, payload: bytes, headers: dict[str, str], timeout: float, limit: int
    ) -> tuple[int | None, bytes, bool, str]:
        """``(status, body, too_big, error)``; ``error`` is "" or what the callback log shows."""
        status, content, error, too_big = None, b"", "", False
        with exchange_within(timeout) as exchange:
            try:
                response = self.session.post(
                    url,
                    data=payload,
                    headers=headers,
                    timeout=exchange.remaining() or 0.001,
                    allow_redirects=False,
                    proxies=environment_proxies(url),
                    verify=ca_bundle(),
                    stream=True,
                )
                status = response.status_code
                content, too_big = _read_bounded(response, limit)
            except requests.Timeout:
                error = "timed out"
            except (requests.RequestException, Urllib3Error, OSError) as exc:
                error = f"connection failed: {exc.__class__.__name__}"
            if exchange.expired:
                error = "timed out"
        return status, content, too_big, error

    def mount(self, prefix: str, adapter: Any) -> None:
        self.session.mount(prefix, adapter)
