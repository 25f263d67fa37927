"""Deliberately broken seamless wallets, for the conformance runner's tests (spec 6.12).

Each one wraps the reference wallet (``examples/wallet``) and breaks exactly one
rule, so a test can assert that the runner names that rule:

- :func:`no_idempotency`: every bet and win is applied, repeated ids too (6.10).
- :func:`no_refund`: a cancel answers 0 but keeps the money (6.10).
- :func:`no_balance`: success replies lack ``data.balance`` (6.8).
- :func:`list_replies`: every reply is the JSON array ``[]`` (6.8, 13.1).
- :func:`any_token`: any ``Callback-Token`` is accepted (6.1).
- :func:`string_numbers`: ``result`` and ``balance`` as numeric strings (6.7; only a warning).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from examples.wallet.wallet import DEFAULT_TOKEN, create_app

#: ``(request body, headers) -> (body, headers)`` before the reference wallet sees them.
RequestHook = Callable[[dict[str, Any], dict[str, str]], tuple[dict[str, Any], dict[str, str]]]
#: ``(request body, reply) -> reply`` before the platform sees it.
ReplyHook = Callable[[dict[str, Any], Any], Any]


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def wrapped(
    on_request: RequestHook | None = None,
    on_reply: ReplyHook | None = None,
    replace: Callable[[dict[str, Any], Any], Any] | None = None,
    token: str = DEFAULT_TOKEN,
) -> Flask:
    """The reference wallet behind hooks; ``replace(body, ledger)`` answers instead of it when not None."""
    inner = create_app(token=token)
    ledger = inner.extensions["wallet_ledger"]
    outer = Flask("broken_wallet")

    @outer.post("/callback")
    def callback() -> Response:
        body = json.loads(request.get_data() or b"{}")
        headers = {"Callback-Token": request.headers.get("Callback-Token", "")}
        reply = replace(body, ledger) if replace is not None else None
        if reply is None:
            if on_request is not None:
                body, headers = on_request(body, headers)
            answer = inner.test_client().post("/callback", json=body, headers=headers)
            reply = json.loads(answer.get_data(), parse_float=Decimal)
            if on_reply is not None:
                reply = on_reply(body, reply)
        return Response(json.dumps(reply, default=_number), mimetype="application/json")

    return outer


def no_idempotency() -> Flask:
    """Gives every bet and win a fresh id, so a repeated one is applied again."""
    fresh = itertools.count(1)

    def rename(body: dict[str, Any], headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        data = body.get("data", {})
        if body.get("command") in ("bet", "win"):
            if "trans_guid" in data:
                data["trans_guid"] = f"{data['trans_guid']}-{next(fresh)}"
            else:
                data["trans_id"] = data["trans_id"] * 1000 + next(fresh) % 1000
        return body, headers

    return wrapped(on_request=rename)


def no_refund() -> Flask:
    """Answers every cancel with success and the current balance, and reverses nothing."""

    def keep_the_money(body: dict[str, Any], ledger: Any) -> Any:
        if body.get("command") != "cancel":
            return None
        with ledger.lock:
            balance = ledger.accounts[body["data"]["account"]].balance
        return {"result": 0, "status": "OK", "data": {"balance": balance}}

    return wrapped(replace=keep_the_money)


def no_balance() -> Flask:
    """Success replies without ``data.balance``: ``{"result":0,"status":"OK"}``."""

    def strip(body: dict[str, Any], reply: Any) -> Any:
        if reply.get("result") == 0 and body.get("command") != "status":
            reply.pop("data", None)
        return reply

    return wrapped(on_reply=strip)


def list_replies() -> Flask:
    """``[]`` to everything, as some PHP handlers answer."""
    return wrapped(on_reply=lambda body, reply: [])


def any_token() -> Flask:
    """Overwrites whatever ``Callback-Token`` came with the one the wallet expects."""
    return wrapped(on_request=lambda body, headers: (body, {"Callback-Token": DEFAULT_TOKEN}))


def string_numbers() -> Flask:
    """``"result":"0"`` and ``"balance":"12000"``, as the vendor's reference handlers answer (6.7)."""

    def stringify(body: dict[str, Any], reply: Any) -> Any:
        reply["result"] = str(reply["result"])
        if isinstance(reply.get("data"), dict) and "balance" in reply["data"]:
            reply["data"]["balance"] = str(reply["data"]["balance"])
        return reply

    return wrapped(on_reply=stringify)
