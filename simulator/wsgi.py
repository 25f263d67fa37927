"""The WSGI entry gunicorn loads (``gunicorn.conf.py``: ``wsgi_app``).

Settings come from the environment.  The start-up banner is printed by
``gunicorn.conf.py`` once a worker has loaded this module (its tokens come from
the world), by one worker however many start.
"""

from __future__ import annotations

from . import create_app
from .config import Settings
from .logsetup import configure_logging

settings = Settings.from_env()
configure_logging(settings.log_level)
application = create_app(settings)
application.extensions["scorpio"].start_housekeeping()
