"""The WSGI entry gunicorn loads (``gunicorn.conf.py``: ``wsgi_app``).

Settings come from the environment; the start-up banner is printed once the
application exists, since the tokens it shows come from the fixtures.
"""

from __future__ import annotations

import logging

from . import create_app
from .banner import print_banner
from .config import Settings

settings = Settings.from_env()
logging.basicConfig(
    level=settings.log_level.upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
application = create_app(settings)
application.extensions["scorpio"].start_housekeeping()
print_banner(application)
