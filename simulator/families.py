"""The app's API families: each has one entrance and one error path.

A family is every request under its prefixes - ``/admin``, ``/control``, ``/backoffice``,
``/play`` and ``/round`` - found or not: :func:`install` gives the app one ``before_request`` hook that
runs the family's :attr:`Family.guard` (token, CSRF, body limits) and one error handler
that hands every exception of the request - a refusal (:class:`~simulator.http.ApiError`,
:class:`~simulator.codes.SimError`), a routing failure (404, 405), a crash - to the
family's :attr:`Family.answer`, which alone decides how its errors look.  Requests under
no family (``/``, ``/media``, ``/docs``) answer errors in JSON.  ``/v4`` never reaches
Flask: its entrance and error path are :mod:`simulator.api.front`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request

from .http import is_under, json_failure

EXTENSION = "scorpio_families"


@dataclass(frozen=True)
class Family:
    #: The paths of the family: these and everything under them (``/play`` and ``/play/...``).
    prefixes: tuple[str, ...]
    #: Runs before every request of the family, routed or not; a response ends the request.
    guard: Callable[[], Response | None] | None
    #: The family's one error path: any exception of one of its requests -> the answer.
    answer: Callable[[Exception], Response]


#: Requests under no family.
OTHERS = Family((), None, json_failure)


def add_family(app: Flask, family: Family) -> None:
    app.extensions.setdefault(EXTENSION, []).append(family)


def family_of(path: str) -> Family:
    families: list[Family] = current_app.extensions.get(EXTENSION, [])
    return next(
        (family for family in families if any(is_under(path, prefix) for prefix in family.prefixes)), OTHERS
    )


def _enter() -> Response | None:
    guard = family_of(request.path).guard
    return guard() if guard is not None else None


def _leave(error: Exception) -> Response:
    return family_of(request.path).answer(error)


def install(app: Flask) -> None:
    """The one entrance hook and the one error handler of every family of ``app``."""
    app.before_request(_enter)
    app.register_error_handler(Exception, _leave)
