"""The player's side of the simulator: game page, spin API and round pages.

:func:`init_app` adds its two blueprints - the HTML pages (with their static CSS and
script, all served locally so the game works offline) and the JSON spin API the page
calls - and makes ``/play`` a family (:mod:`simulator.families`) with its entrance
(:func:`.views.guard`) and its error path (:func:`.views.failure`).
"""

from __future__ import annotations

from flask import Flask

from ..families import Family, add_family
from .views import api, failure, guard, pages


def init_app(app: Flask) -> None:
    app.register_blueprint(pages)
    app.register_blueprint(api)
    add_family(app, Family(("/play", "/round"), guard, failure))
