"""The player's side of the simulator: game page, spin API and round pages.

:func:`init_app` adds its two blueprints: the HTML pages (with their static CSS and
script, all served locally so the game works offline) and the JSON spin API the
page calls.
"""

from __future__ import annotations

from flask import Flask

from .views import api, pages


def init_app(app: Flask) -> None:
    app.register_blueprint(pages)
    app.register_blueprint(api)
