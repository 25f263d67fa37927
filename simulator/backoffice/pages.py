"""The back office as web pages, under ``/backoffice`` (server-rendered, no network assets).

What the real service's back office offers (spec 1.1-1.2, 5.13, 5.20, 6.8,
6.12): the agent tree, each agent's settings, API token and points, its
players, game connections, transactions, rounds, callback log, API error log
and callback tester, and a dashboard of play and points.

Protection follows the admin API (control-api.md): with an admin token
configured, a login page asks for it (checked like ``X-Admin-Token``, which is
also accepted) and a signed session cookie remembers it; without one, on
loopback, the pages are open.  Every form posts a CSRF token kept in the
session.  Pages carry the same strict CSP as the game pages: no inline script
or style, nothing from another origin.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from werkzeug.exceptions import HTTPException, NotFound

from ..codes import SimError
from ..currency import Currency, currency_of
from ..domain.models import Agent
from ..http import BODY_LIMIT, STATUS_FOR_CODE, Routes, admin_token_ok, current_simulator, is_under, utf8
from ..money import to_decimal
from ..play.present import TRANS_TYPE_NAMES
from ..runtime import Simulator
from .conformance_runs import ConformanceRuns

routes = Routes()

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
OPEN_ENDPOINTS = ("backoffice.login", "backoffice.static")
#: The agent pages' tabs: (endpoint, label).
TABS = (
    ("backoffice.agent_page", "Settings & points"),
    ("backoffice.users_page", "Users"),
    ("backoffice.sessions_page", "Game connections"),
    ("backoffice.free_rounds_page", "Free rounds"),
    ("backoffice.transactions_page", "Transactions"),
    ("backoffice.callbacks_page", "Callback log"),
    ("backoffice.api_errors_page", "API error log"),
    ("backoffice.conformance_page", "Callback API testing"),
)


class BackofficeSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for the back office only.

    Only ``/backoffice`` pages keep a session (sign-in, CSRF); opening one for
    every ``/v4`` call would build a signing serializer per request for nothing.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not is_under(request.path, "/backoffice"):
            return None  # Flask uses a null session, which refuses writes
        return super().open_session(app, request)


def init_app(app: Flask, *parts: Routes) -> None:
    """Add the pages (the sign-in ones here and ``parts``) on one blueprint with their template
    helpers; a random session key when none is configured (sessions end with the process).
    The family's entrance is :func:`guard`, its error path :func:`failure`."""
    app.session_interface = BackofficeSessions()
    if not app.secret_key:
        app.secret_key = secrets.token_bytes(32)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions["scorpio_backoffice"] = ConformanceRuns()
    blueprint = Blueprint(
        "backoffice",
        __name__,
        url_prefix="/backoffice",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    app.context_processor(_helpers)
    for part in (routes, *parts):
        part.add_to(blueprint)
    app.register_blueprint(blueprint)


def runs() -> ConformanceRuns:
    return current_app.extensions["scorpio_backoffice"]


def page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(utf8(render_template(template, **context)), status=status, mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response


def currency(agent: Agent) -> Currency:
    return currency_of(current_simulator().settings.currencies, agent.settings.currency)


def agent_context(agent: Agent, tab: str) -> dict[str, Any]:
    """What every agent page's header needs."""
    return {
        "agent": agent,
        "parent": current_simulator().world.hierarchy.parent_name(agent),
        "currency": currency(agent),
        "tabs": TABS,
        "tab": tab,
    }


# -- sign-in and CSRF -------------------------------------------------------------------
def _admin_token() -> str:
    return current_app.config.get("SCORPIO_ADMIN_TOKEN") or ""


def _fingerprint(token: str) -> str:
    """What the session keeps: the token's hash, so a changed token ends old sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_required() -> bool:
    return bool(_admin_token())


def _by_header() -> bool:
    return token_required() and bool(request.headers.get("X-Admin-Token")) and admin_token_ok()


def signed_in() -> bool:
    token = _admin_token()
    if not token or _by_header():
        return True
    return hmac.compare_digest(session.get("bo_auth", ""), _fingerprint(token))


def csrf_token() -> str:
    token = session.get("bo_csrf")
    if not token:
        token = session["bo_csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    expected = session.get("bo_csrf", "")
    given = request.form.get("csrf_token", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _local_target(target: str | None) -> str:
    """Only a back-office path of this server, never an open redirect."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/backoffice") or "\\" in (target or ""):
        return url_for("backoffice.dashboard")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def guard() -> Response | None:
    """The entrance of ``/backoffice`` (:mod:`simulator.families`), unknown paths too: signed in,
    and a form posted from one of these pages (CSRF token)."""
    # Forms are parsed before anything else looks at them (the login page is open): bound them.
    request.max_content_length = BODY_LIMIT
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not signed_in():
        if request.method == "GET":
            return redirect(url_for("backoffice.login", next=request.full_path.rstrip("?")))
        return page("bo_error.html", 401, title="Sign in first", message="Your session has ended.")
    if request.method == "POST" and not _by_header() and not _csrf_ok():
        return _stale_form()
    return None


def _stale_form() -> Response:
    message = "The form was stale or came from another site. Reload the page and try again."
    return page("bo_error.html", 400, title="Form not accepted", message=message)


def _helpers() -> dict[str, Any]:
    """What the back office's templates call (an app-wide context processor, so an error page
    of the family has them for a path no route matched; other pages get nothing)."""
    if not is_under(request.path, "/backoffice"):
        return {}
    simulator = current_simulator()
    return {
        "csrf_token": csrf_token,
        "token_required": token_required(),
        "by_header": _by_header(),
        "format_time": lambda moment: simulator.format_time(moment) if moment else "–",
        "time_zone": simulator.settings.report_tz,
        "type_names": TRANS_TYPE_NAMES,
        "amount": lambda value, cur: cur.amount(to_decimal(value)),
        "log_time": lambda text: _log_time(simulator, text),
    }


def _log_time(simulator: Simulator, text: str) -> str:
    """An ISO-8601 instant of a log entry, shown like every other time: in the reporting timezone."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return str(text)
    return simulator.format_time(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def act_and_flash(
    action: Callable[[], Any], done: Callable[[Any], str], refusal: Callable[[SimError], str]
) -> None:
    """Run a form's domain action and flash what came of it: ``done(result)`` or ``refusal(error)``."""
    try:
        result = action()
    except SimError as exc:
        flash(refusal(exc), "error")
    else:
        flash(done(result), "ok")


def failure(error: Exception) -> Response:
    """The error path of ``/backoffice``: every error as a page of the back office."""
    if isinstance(error, SimError):
        status = STATUS_FOR_CODE.get(error.code, 409)
        title = "Not found" if status == 404 else "Refused"
        return page("bo_error.html", status, title=title, message=error.detail)
    if isinstance(error, NotFound):
        return page("bo_error.html", 404, title="Not found", message=f"There is no page {request.path}.")
    if isinstance(error, HTTPException):
        status = error.code or 500
        return page("bo_error.html", status, title=error.name, message=error.description or error.name)
    logging.getLogger("simulator").exception("unexpected error on %s", request.path)
    message = "Something went wrong on the simulator's side; its log says what."
    return page("bo_error.html", 500, title="Internal error", message=message)


@routes.route("/login", methods=["GET", "POST"])
def login() -> Response:
    target = _local_target(request.values.get("next"))
    if not token_required() or signed_in():
        return redirect(target)
    if request.method == "GET":
        return page("bo_login.html", next=target, error="")
    if not _csrf_ok():
        return _stale_form()
    given = request.form.get("token", "")
    if not hmac.compare_digest(given.encode(), _admin_token().encode()):
        return page("bo_login.html", 401, next=target, error="That is not the admin token.")
    session.clear()
    session["bo_auth"] = _fingerprint(_admin_token())
    csrf_token()
    return redirect(target, 303)


@routes.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("backoffice.login"), 303)
