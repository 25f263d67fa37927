"""Every ``/v4`` endpoint, by path: the foundation, launches and sessions, history."""

from __future__ import annotations

from . import endpoints, play_endpoints
from .endpoints import Endpoint

ENDPOINTS: dict[str, Endpoint] = {**endpoints.ENDPOINTS, **play_endpoints.ENDPOINTS}
