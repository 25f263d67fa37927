"""A callback request's bytes, exactly as ``requests`` sent them, and which path each URL takes.

Callbacks went out through ``requests`` until issue 17; most now go through the lean
:mod:`.transport`, and integrators must not see the change.  So the head is the one
``requests`` wrote, byte for byte, in its order: ``Host``, ``User-Agent``
(``python-requests/<version>``), ``Accept-Encoding: gzip, deflate``, ``Accept``,
``Connection: keep-alive``, ``Callback-Token`` (that exact case, spec 13.1), ``Content-Type``,
``Content-Length``.  The request target and ``Host`` come from the URL as ``requests``
prepares it (IDNA host, quoted path).

A URL the lean path does not serve - one behind a proxy from the environment (``HTTP_PROXY``,
``NO_PROXY``), one with credentials, one that does not prepare - keeps going through
``requests`` (:mod:`.proxied`), which behaves as it always did.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.utils import default_user_agent, get_environ_proxies, select_proxy
from urllib3.util import parse_url

from .transport import Origin

USER_AGENT = default_user_agent()
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The headers ``requests`` sent after ``Host``, in its order; then ``Content-Length``.
FIXED_HEADERS = (
    ("User-Agent", USER_AGENT),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "application/json"),
    ("Connection", "keep-alive"),
)
#: What ``requests`` accepts as a header value (``requests.utils.check_header_validity``).
_VALID_VALUE = re.compile(r"^\S[^\r\n]*$|^$")


class InvalidHeader(ValueError):
    """A callback token no header can carry (named as ``requests`` names it in the log)."""


def environment_proxies(url: str) -> dict[str, str]:
    """``HTTP(S)_PROXY`` / ``NO_PROXY`` for this URL's scheme and host, read once per host."""
    parts = urlsplit(url)
    return _proxies_for(parts.scheme, parts.netloc)


@functools.lru_cache(maxsize=1024)
def _proxies_for(scheme: str, netloc: str) -> dict[str, str]:
    return get_environ_proxies(f"{scheme}://{netloc}/")


@dataclass(frozen=True)
class Route:
    """A callback URL served by the lean path: where to connect and the head's fixed start."""

    origin: Origin
    #: The request line and the headers up to ``Connection``, encoded.
    prefix: bytes

    def request(self, token: str, payload: bytes) -> bytes:
        """The whole request: head and JSON body, ready for one ``sendall``."""
        if not _VALID_VALUE.match(token):
            raise InvalidHeader("the callback token cannot be sent as a header value")
        try:
            token_bytes = token.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidHeader("the callback token is not Latin-1 text") from None
        return b"".join(
            (
                self.prefix,
                b"Callback-Token: ",
                token_bytes,
                b"\r\nContent-Type: application/json\r\nContent-Length: ",
                str(len(payload)).encode(),
                b"\r\n\r\n",
                payload,
            )
        )


def route_for(url: str) -> Route | None:
    """The lean path's route for ``url``, or None when ``requests`` must carry the callback."""
    try:
        prepared = requests.Request("POST", url).prepare().url or ""
        parts = parse_url(prepared)
    except (requests.RequestException, ValueError):
        return None  # requests reports it, as before
    scheme = parts.scheme or ""
    if scheme not in DEFAULT_PORTS or not parts.host or parts.auth:
        return None
    if select_proxy(prepared, environment_proxies(prepared)):
        return None
    host = parts.host.strip("[]")
    port = parts.port or DEFAULT_PORTS[scheme]
    # As http.client writes Host: brackets around an IPv6 address, the port unless the default.
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    split = urlsplit(prepared)  # the request target as requests wrote it (its ``path_url``)
    target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}"]
    lines += [f"{name}: {value}" for name, value in FIXED_HEADERS]
    try:
        prefix = ("\r\n".join(lines) + "\r\n").encode("ascii")
    except UnicodeEncodeError:
        return None
    return Route(Origin(scheme, host, port), prefix)
