"""Every ``/v4`` endpoint, by path: foundation, launches and sessions, history, bonus calls, free rounds.

Built from the modules' declarations, in this order (the OpenAPI document lists them so).
"""

from __future__ import annotations

from . import bonus_endpoints, endpoints, history_endpoints, play_endpoints
from .endpoints import Endpoint


def by_path(*declarations: tuple[Endpoint, ...]) -> dict[str, Endpoint]:
    """The declarations by path; a path declared twice is a mistake, not an override."""
    table: dict[str, Endpoint] = {}
    for group in declarations:
        for endpoint in group:
            if endpoint.path in table:
                raise ValueError(f"/v4/{endpoint.path} is declared twice")
            table[endpoint.path] = endpoint
    return table


ENDPOINTS: dict[str, Endpoint] = by_path(
    endpoints.DECLARATIONS,
    play_endpoints.DECLARATIONS,
    history_endpoints.DECLARATIONS,
    bonus_endpoints.DECLARATIONS,
)
