"""Helpers for integrators' test suites: a pytest plugin and a client for ``/admin/api`` and ``/control``.

The plugin is registered through the ``pytest11`` entry point, so installing
``scorpio-sim`` is enough: the ``scorpio`` fixture gives each test a simulator
in its fixture state, served on a free loopback port.
"""

from .client import SimClient, SimClientError

__all__ = ["SimClient", "SimClientError"]
