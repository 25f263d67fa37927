"""``/control/snapshot``, ``/control/restore`` and ``/control/snapshot/save`` (control-api.md).

A snapshot is the whole state as JSON (see :mod:`simulator.state.snapshot`).
Restoring replaces the state only when the snapshot is complete and
consistent; otherwise 400 says which part is wrong and nothing changes.
"""

from __future__ import annotations

import json
from decimal import Decimal

from flask import Response, request

from ..http import ApiError, Routes, current_simulator, json_response
from ..state.snapshot import QUIET_TIMEOUT, SnapshotError
from ..state.statefile import StateFileError, save

routes = Routes()

#: Snapshots are large (the catalogue alone is ~0.4 MB); /v4's body limit does not apply here.
MAX_SNAPSHOT_BYTES = 1 << 30


@routes.get("/snapshot")
def take_snapshot() -> Response:
    """The whole state as JSON; 409 when rounds keep running for 30 s (a hanging wallet)."""
    try:
        data = current_simulator().snapshot()
    except TimeoutError as exc:
        raise ApiError(f"rounds are still being played ({exc}); try again", 409) from None

    return json_response(data)


@routes.post("/restore")
def restore() -> Response:
    """Replace the state with a snapshot; answers what was restored."""
    if (request.content_length or 0) > MAX_SNAPSHOT_BYTES:
        raise ApiError(f"a snapshot must be at most {MAX_SNAPSHOT_BYTES} bytes", 413)
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise ApiError(f"the body is not valid JSON: {exc}") from None
    try:
        world = current_simulator().restore(data)
    except SnapshotError as exc:
        raise ApiError(f"snapshot not restored: {exc}") from None
    store = world.store
    return json_response(
        {
            "restored": True,
            "taken_at": data.get("taken_at"),
            "agents": len(store.all_agents()),
            "users": store.user_count(),
            "transactions": store.transaction_count(),
            "rounds": store.round_count(),
            "pending_callbacks": len(current_simulator().retries.pending()),
        }
    )


@routes.post("/snapshot/save")
def save_snapshot() -> Response:
    """Write the state file now (``SCORPIO_SIM_STATE_FILE``); 409 when none is configured."""
    try:
        saved = save(current_simulator(), timeout=QUIET_TIMEOUT)
    except StateFileError as exc:
        raise ApiError(str(exc), 409) from None
    except TimeoutError as exc:
        raise ApiError(f"rounds are still being played ({exc}); try again", 409) from None
    except OSError as exc:
        raise ApiError(f"cannot write the state file: {exc}", 500) from None
    return json_response({"path": str(saved.path), "bytes": saved.bytes, "seconds": round(saved.seconds, 3)})
