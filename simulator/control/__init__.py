"""The test-control API, ``/control`` (control-api.md): reset, clock, faults, journal, outcomes,
play, snapshots, traffic.

:func:`init_app` puts the routes of every module on the family's one blueprint, and
makes ``/control`` a family (:mod:`simulator.families`): one entrance (the admin token),
one error path (``{"error": ...}``).
"""

from __future__ import annotations

from flask import Flask

from ..families import Family, add_family
from ..http import json_failure
from . import api, play_api, state_api, traffic_api


def init_app(app: Flask) -> None:
    app.register_blueprint(api.blueprint(play_api.routes, state_api.routes, traffic_api.routes))
    add_family(app, Family(("/control",), api.guard, json_failure))
