"""Links to human-readable round pages (``round-details``, spec 5.22).

The page is public (a player's support agent opens it), so its URL carries an
unguessable signature instead of asking for a token: ``/round/<agent_id>-<round_id>-<sig>``.
"""

from __future__ import annotations

import hashlib
import hmac


def round_token(secret: bytes, agent_id: int, round_id: str) -> str:
    body = f"{agent_id}-{round_id}"
    sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{body}-{sig}"


def parse_round_token(secret: bytes, token: str) -> tuple[int, str] | None:
    """``(agent_id, round_id)`` for a genuine token, else None."""
    if not token.isascii():  # compare_digest refuses non-ASCII text; and "²".isdigit() is True
        return None
    parts = token.split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    agent_id, round_id = int(parts[0]), parts[1]
    if not hmac.compare_digest(round_token(secret, agent_id, round_id), token):
        return None
    return agent_id, round_id
