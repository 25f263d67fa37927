"""Every ``/v4`` endpoint, by path: the foundation, launches and sessions, history."""

from __future__ import annotations

from . import endpoints, history_endpoints, play_endpoints
from .endpoints import Endpoint

ENDPOINTS: dict[str, Endpoint] = {**endpoints.ENDPOINTS, **play_endpoints.ENDPOINTS}
ENDPOINTS.update(history_endpoints.ENDPOINTS)
