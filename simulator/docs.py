"""``GET /openapi.json`` and ``GET /docs``: the OpenAPI document and Swagger UI, offline.

Swagger UI's assets come from the ``swagger-ui-bundle`` package and are served from
``/docs/assets/``; the page loads nothing from outside the simulator.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from .http import json_response
from .openapi import build

blueprint = Blueprint("docs", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>scorpio-sim API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def document() -> dict:
    cached = current_app.extensions.get("scorpio_openapi")
    if cached is None:
        cached = current_app.extensions["scorpio_openapi"] = build(current_app)
    return cached


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    return json_response(document())


@blueprint.get("/docs")
def docs_page() -> Response:
    return Response(PAGE, mimetype="text/html")


@blueprint.get("/docs/init.js")
def docs_init() -> Response:
    return Response(INIT, mimetype="text/javascript")


@blueprint.get("/docs/assets/<path:filename>")
def docs_asset(filename: str) -> Response:
    return send_from_directory(str(swagger_ui_path), filename)
