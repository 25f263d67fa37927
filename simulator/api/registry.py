"""Every ``/v4`` endpoint, by path: foundation, launches and sessions, history, bonus calls, free rounds."""

from __future__ import annotations

from . import bonus_endpoints, endpoints, history_endpoints, play_endpoints
from .endpoints import Endpoint

ENDPOINTS: dict[str, Endpoint] = {**endpoints.ENDPOINTS, **play_endpoints.ENDPOINTS}
ENDPOINTS.update(history_endpoints.ENDPOINTS)
ENDPOINTS.update(bonus_endpoints.ENDPOINTS)
