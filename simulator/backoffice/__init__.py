"""The back office: the admin JSON API (``/admin/api``) and the pages (``/backoffice``).

:func:`init_app` puts each family's routes, from every module that declares some, on
its one blueprint, and gives each family its entrance and its error path
(:mod:`simulator.families`): the admin token and ``{"error"}`` bodies for ``/admin``,
sign-in and CSRF checks and error pages for ``/backoffice``.
"""

from __future__ import annotations

from flask import Flask

from ..families import Family, add_family
from ..http import json_failure
from . import activity_pages, admin_api, agent_pages, freeround_pages, pages, users_api


def init_app(app: Flask) -> None:
    app.register_blueprint(admin_api.blueprint(users_api.routes))
    add_family(app, Family(("/admin",), admin_api.guard, json_failure))
    pages.init_app(app, agent_pages.routes, activity_pages.routes, freeround_pages.routes)
    add_family(app, Family(("/backoffice",), pages.guard, pages.failure))
