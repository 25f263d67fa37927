"""Reference seamless wallet for the Scorpio Play v4 callback protocol (spec section 6).

The platform POSTs every callback (``authenticate``, ``balance``, ``bet``, ``win``,
``cancel``, ``status``) to one URL, here ``/callback``. Each one is answered with
HTTP 200 and a JSON body whose ``result`` says what happened (6.1, 6.6, 6.7).
Both data dialects are understood (6.3): ``v4`` (``trans_guid``,
``cancel_trans_guid``) and ``legacy`` (integer ``trans_id``, cancel by the
original id).

Balances and transactions live in memory in :class:`Ledger`: that class is the
one to replace with a real database. Run with ``python -m examples.wallet``.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("wallet")

#: The documented example callback token (spec 13.3): the simulator's ``demo_seamless`` agent sends it.
DEFAULT_TOKEN = "eadd5a04-4720-4a10-ae60-b11cd01cc3aa"
#: The account the vendor's tester and the simulator's conformance runner use (spec 13.3).
DEFAULT_ACCOUNTS = {"test1234": 100000}
DIALECTS = ("auto", "v4", "legacy")

#: The check string the platform sends with each command (spec 6.5).
DEFAULT_CHECKS = {
    "authenticate": [21],
    "balance": [21, 22],
    "bet": [21, 22, 41, 31],
    "win": [21, 22, 41],
    "cancel": [21, 22, 41, 43],
    "status": [21, 42],
}
LEGACY_CANCEL_CHECKS = [21, 22, 42]
#: Failed checks whose reply carries the current balance (spec 6.6).
CODES_WITH_BALANCE = {31, 41, 42, 43, 99}


class BadCallback(Exception):
    """A callback the wallet cannot read (bad JSON, unknown command, missing id): answered with 99."""


@dataclass
class Account:
    balance: Decimal
    blocked: bool = False


@dataclass
class Transaction:
    id: str | int
    command: str  # "bet", "win" or "cancel"
    account: str
    amount: Decimal
    status: str = "OK"  # "CANCELED" once reversed; what the ``status`` command reports (6.10)
    cancels: str | int | None = None  # for a cancel: the id of the transaction it reversed


class Ledger:
    """In-memory accounts and transactions: replace this with your database.

    Every callback runs its checks *and* its effect while holding ``lock``, so a
    check cannot go stale before the money moves: of two identical bets arriving
    together, one is applied and the other fails check 41. With a database the
    same guarantee comes from one DB transaction per callback that locks the
    account row (``SELECT ... FOR UPDATE``) plus a unique key on the transaction id.
    """

    def __init__(self, accounts: dict[str, Any], blocked: tuple[str, ...] = ()) -> None:
        self.lock = threading.Lock()
        self.accounts = {name: Account(to_amount(balance)) for name, balance in accounts.items()}
        for name in blocked:
            self.accounts.setdefault(name, Account(Decimal(0))).blocked = True
        #: Every bet, win and v4 cancel id ever applied, kept forever (spec 6.10).
        self.transactions: dict[str | int, Transaction] = {}


@dataclass
class Callback:
    """One callback, read in its dialect.

    ``own_id`` is the request's own transaction id (check 41, then stored);
    ``target_id`` is the id it points at (checks 42/43): the transaction a cancel
    reverses, or the one a status asks about.
    """

    command: str
    dialect: str
    account: str | None
    own_id: str | int | None
    target_id: str | int | None
    amount: Decimal | None
    checks: list[int]


def to_amount(value: Any, name: str = "amount") -> Decimal:
    """A JSON number or numeric string as an exact Decimal ≥ 0 (spec 6.7, 13.2)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise BadCallback(f"{name} must be a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadCallback(f"{name} must be a number") from None
    if not amount.is_finite() or amount < 0:
        raise BadCallback(f"{name} must be a number >= 0")
    return amount


def _transaction_id(data: dict[str, Any], dialect: str, key: str | None = None) -> str | int:
    """``trans_guid`` (v4, a string) or ``trans_id`` (legacy, an int64) (spec 6.3)."""
    if dialect == "legacy":
        value = data.get("trans_id")
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadCallback("trans_id must be an integer")
        return value
    key = key or "trans_guid"
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadCallback(f"{key} must be a non-empty string")
    return value


def parse_callback(raw: bytes, dialect: str) -> Callback:
    try:
        body = json.loads(raw, parse_float=Decimal, parse_constant=lambda name: None)
    except ValueError:
        raise BadCallback("body is not valid JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data", {}), dict):
        raise BadCallback("body must be a JSON object with a 'data' object")
    command, data = body.get("command"), body.get("data") or {}
    if command not in DEFAULT_CHECKS:
        raise BadCallback(f"unknown command {command!r}")
    if dialect == "auto":
        is_v4 = "trans_guid" in data or "cancel_trans_guid" in data or "trans_id" not in data
        dialect = "v4" if is_v4 else "legacy"

    own_id = target_id = amount = None
    if command in ("bet", "win"):
        own_id, amount = _transaction_id(data, dialect), to_amount(data.get("amount"))
    elif command == "cancel" and dialect == "v4":
        own_id = _transaction_id(data, dialect)
        target_id = _transaction_id(data, dialect, "cancel_trans_guid")
    elif command in ("cancel", "status"):  # a legacy cancel names only its target, by the original trans_id
        target_id = _transaction_id(data, dialect)

    # The platform's check string sets the order (6.6). The command's own checks are
    # appended when missing, so a short or absent check string can never make the
    # wallet pay twice or cancel something it never saw.
    defaults = LEGACY_CANCEL_CHECKS if (command, dialect) == ("cancel", "legacy") else DEFAULT_CHECKS[command]
    listed = [int(code) for code in re.findall(r"\d+", str(body.get("check") or ""))]
    checks = listed + [code for code in defaults if code not in listed]
    account = None if data.get("account") is None else str(data["account"])
    return Callback(command, dialect, account, own_id, target_id, amount, checks)


def _target(ledger: Ledger, cb: Callback) -> Transaction | None:
    """The transaction ``cb`` points at, if this account has it (a cancel cannot itself be cancelled)."""
    found = ledger.transactions.get(cb.target_id) if cb.target_id is not None else None
    if found is None or found.account != cb.account or (cb.command == "cancel" and found.command == "cancel"):
        return None
    return found


def failed_check(ledger: Ledger, cb: Callback) -> int:
    """The first check of ``cb.checks`` that fails, or 0 (spec 6.6). Unknown codes are skipped."""
    account = ledger.accounts.get(cb.account) if cb.account is not None else None
    for code in cb.checks:
        if code == 21:
            ok = account is not None
        elif code == 22:
            ok = account is not None and not account.blocked
        elif code == 31:
            ok = account is not None and (cb.amount is None or account.balance >= cb.amount)
        elif code == 41:
            ok = cb.own_id is None or cb.own_id not in ledger.transactions
        elif code in (42, 43):
            ok = _target(ledger, cb) is not None
        else:
            continue
        if not ok:
            return code
    return 0


def apply(ledger: Ledger, cb: Callback) -> dict[str, Any]:
    """Carry out a callback whose checks passed; returns the reply's ``data`` (spec 6.7, 6.10)."""
    account = ledger.accounts[cb.account]
    if cb.command == "authenticate":
        return {"account": cb.account, "balance": account.balance}
    if cb.command == "status":
        target = _target(ledger, cb)
        if cb.dialect == "legacy":
            return {"trans_id": target.id, "trans_status": target.status}
        return {"account": cb.account, "trans_guid": target.id, "trans_status": target.status}

    amount = cb.amount
    if cb.command == "bet":
        account.balance -= amount
    elif cb.command == "win":
        account.balance += amount  # a 0 win (a lost round) still gets stored below, for 41 and status
    elif cb.command == "cancel":
        target = _target(ledger, cb)
        # Reverse what the target really moved (not the cancel's own ``amount`` field).
        # A second cancel of the same target succeeds without moving money again.
        amount = target.amount
        if target.status != "CANCELED":
            # A cancelled win is clawed back even into a negative balance (6.10).
            account.balance += amount if target.command == "bet" else -amount
            target.status = "CANCELED"
    if cb.own_id is not None:
        stored = Transaction(cb.own_id, cb.command, cb.account, amount, cancels=cb.target_id)
        ledger.transactions[cb.own_id] = stored
    return {"balance": account.balance}


def handle(ledger: Ledger, raw: bytes, dialect: str) -> dict[str, Any]:
    """The reply to one callback body whose token was already accepted."""
    started = time.perf_counter()
    try:
        cb = parse_callback(raw, dialect)
    except BadCallback as error:
        log.info("unreadable callback -> 99 (%s)", error)
        return {"result": 99, "status": "ERROR", "message": str(error)}
    with ledger.lock:
        code = failed_check(ledger, cb)
        if code == 0:
            reply = {"result": 0, "status": "OK", "data": apply(ledger, cb)}
        else:
            reply = {"result": code, "status": "ERROR"}
            account = ledger.accounts.get(cb.account) if cb.account is not None else None
            if code in CODES_WITH_BALANCE and account is not None:
                reply["data"] = {"balance": account.balance}
    log.info(
        "%s %s account=%s id=%s -> %s (%.1f ms)",
        cb.dialect,
        cb.command,
        cb.account,
        cb.own_id or cb.target_id or "-",
        code,
        (time.perf_counter() - started) * 1000,
    )
    return reply


def _json_number(value: Any) -> int | float:
    """Balances go out as JSON numbers, integers when whole (``100000``, not ``"100000"`` or ``1E+5``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, default=_json_number), status, mimetype="application/json")


def create_app(
    token: str = DEFAULT_TOKEN,
    dialect: str = "auto",
    accounts: dict[str, Any] | None = None,
    blocked: tuple[str, ...] | list[str] = (),
) -> Flask:
    """The wallet app. ``accounts`` maps account name to starting balance (default ``test1234``: 100000)."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}")
    ledger = Ledger(DEFAULT_ACCOUNTS if accounts is None else accounts, tuple(blocked))
    app = Flask(__name__)
    app.extensions["wallet_ledger"] = ledger

    @app.post("/callback")
    def callback() -> Response:
        # Flask normalises header names, so any spelling of the name is found here and
        # only the value is compared. The vendor's PHP handlers are stricter: they read
        # exactly "Callback-Token" and answer 100 to any other spelling (spec 13.1).
        sent = request.headers.get("Callback-Token", "")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            log.info("callback with a wrong Callback-Token -> 100")
            return _json({"result": 100, "status": "ERROR"})
        return _json(handle(ledger, request.get_data(), dialect))

    @app.get("/accounts")
    def show_accounts() -> Response:
        """Balances and stored transactions, for humans and tests (not part of the protocol)."""
        with ledger.lock:
            return _json(
                {
                    "accounts": {name: asdict(account) for name, account in ledger.accounts.items()},
                    "transactions": [asdict(tx) for tx in ledger.transactions.values()],
                }
            )

    @app.post("/accounts")
    def set_account() -> Response:
        """Create an account or set its balance / blocked flag: ``{"account", "balance", "blocked"}``."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("account"), str) or not body["account"]:
            return _json({"error": 'expected {"account": NAME, "balance": N, "blocked": BOOL}'}, 400)
        try:
            balance = to_amount(body["balance"], "balance") if "balance" in body else None
        except BadCallback as error:
            return _json({"error": str(error)}, 400)
        with ledger.lock:
            account = ledger.accounts.setdefault(body["account"], Account(Decimal(0)))
            if balance is not None:
                account.balance = balance
            if "blocked" in body:
                account.blocked = bool(body["blocked"])
            return _json({"account": body["account"], **asdict(account)})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):  # 404, 405: outside the protocol, a plain JSON error
            return _json({"error": error.description}, error.code or 500)
        # Processing failed after the checks (a database error in a real wallet): 99,
        # still HTTP 200 so the platform reads the body (6.6). The platform retries wins and cancels.
        log.exception("callback failed")
        return _json({"result": 99, "status": "ERROR"})

    return app


def _account_option(text: str) -> tuple[str, Decimal]:
    name, sep, balance = text.partition("=")
    try:
        if not (sep and name):
            raise BadCallback("expected NAME=BALANCE")
        return name, to_amount(balance, "BALANCE")
    except BadCallback as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.wallet",
        description="Reference seamless wallet for Scorpio Play v4 callbacks (POST /callback).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="expected Callback-Token value")
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="auto",
        help="callback data dialect; auto detects it per request (default)",
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="NAME=BALANCE",
        type=_account_option,
        help="an account and its starting balance; repeatable (test1234=100000 built in)",
    )
    parser.add_argument(
        "--block",
        action="append",
        default=[],
        metavar="NAME",
        help="a blocked account (check 22 fails); repeatable",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # our own log line per callback is enough
    accounts = {**DEFAULT_ACCOUNTS, **dict(args.account)}
    app = create_app(token=args.token, dialect=args.dialect, accounts=accounts, blocked=args.block)
    log.info(
        "reference wallet on http://%s:%d/callback (dialect %s, accounts %s)",
        args.host,
        args.port,
        args.dialect,
        ", ".join(sorted(accounts)),
    )
    app.run(host=args.host, port=args.port, threaded=True)
