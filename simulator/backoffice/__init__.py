"""The back office: the admin JSON API (``/admin/api``) and the pages (``/backoffice``).

:func:`init_app` puts each family's routes, from every module that declares some, on
its one blueprint.
"""

from __future__ import annotations

from flask import Flask

from . import activity_pages, admin_api, agent_pages, freeround_pages, pages, users_api


def init_app(app: Flask) -> None:
    app.register_blueprint(admin_api.blueprint(users_api.routes))
    pages.init_app(app, agent_pages.routes, activity_pages.routes, freeround_pages.routes)
