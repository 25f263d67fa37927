"""Game thumbnails served by the simulator (``game_image``, ``game_image_narrow``).

The real catalogue points at a CDN; the simulator must work offline, so it
draws a small SVG tile per game: the provider's colour, the game's name.
"""

from __future__ import annotations

import hashlib
from html import escape

from flask import Blueprint, Response

from .http import current_simulator, json_error

blueprint = Blueprint("media", __name__, url_prefix="/media")

SIZES = {"wide": (216, 160), "narrow": (120, 160)}


def _colour(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return f"hsl({digest[0] * 360 // 256},55%,38%)"


def _wrap(name: str, width: int) -> list[str]:
    """Split a name into short lines for the tile."""
    per_line = max(8, width // 11)
    lines, line = [], ""
    for word in name.split():
        if line and len(line) + 1 + len(word) > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines[:4]


def tile(title: str, subtitle: str, size: str) -> str:
    width, height = SIZES[size]
    rows = _wrap(title, width)
    top = height // 2 - (len(rows) - 1) * 9
    text = "".join(
        f'<text x="{width // 2}" y="{top + i * 18}" font-size="15" text-anchor="middle" '
        f'fill="#fff" font-family="sans-serif" font-weight="bold">{escape(row)}</text>'
        for i, row in enumerate(rows)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" rx="10" '
        f'fill="{_colour(subtitle)}"/>{text}<text x="{width // 2}" y="{height - 12}" '
        f'font-size="11" text-anchor="middle" fill="#ffffffcc" font-family="sans-serif">'
        f"{escape(subtitle)}</text></svg>"
    )


def _serve(provider_id: int, game_code: str, size: str) -> Response:
    catalogue = current_simulator().world.catalogue
    code = game_code.removesuffix(".svg")
    game = catalogue.game(provider_id, code)
    provider = catalogue.provider(provider_id)
    if game is None or provider is None:
        return json_error(f"no game {provider_id}:{code}", 404)
    response = Response(tile(game.game_name, provider.provider_name, size), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.get("/games/<int:provider_id>/<game_code>")
def wide(provider_id: int, game_code: str) -> Response:
    return _serve(provider_id, game_code, "wide")


@blueprint.get("/games/<int:provider_id>/narrow/<game_code>")
def narrow(provider_id: int, game_code: str) -> Response:
    return _serve(provider_id, game_code, "narrow")
