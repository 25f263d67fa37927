"""The WSGI entry gunicorn loads (``gunicorn.conf.py``: ``wsgi_app``).

Settings come from the environment, and the addresses the server listens on from
gunicorn's ``post_fork`` hook (:mod:`simulator.listeners`; unknown when loaded some
other way, which protects ``/admin`` and ``/control`` as if exposed).  The start-up
banner is printed by ``gunicorn.conf.py`` once a worker has loaded this module (its
tokens come from the world), by one worker however many start.
"""

from __future__ import annotations

from . import create_app, listeners
from .config import Settings
from .http import simulator_of
from .logsetup import configure_logging
from .state.autosave import AutoSaver, ResponseGate

settings = Settings.from_env(listen=listeners.announced() or (listeners.UNKNOWN,))
configure_logging(settings.log_level)
application = create_app(settings)
simulator_of(application).start_housekeeping()
# What gunicorn.conf.py's shutdown hooks need: the gate that holds back responses after the
# last save, and the periodic saver of SCORPIO_SIM_STATE_FILE (simulator.state.autosave).
application.wsgi_app = application.extensions["scorpio_gate"] = ResponseGate(application.wsgi_app)  # type: ignore[method-assign]
application.extensions["scorpio_autosave"] = AutoSaver(
    simulator_of(application), settings.save_interval
).start()
