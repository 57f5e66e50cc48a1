"""Plaid records built in code, for the commands that make upload bodies (``bench_upload``)
and for the tests."""

from __future__ import annotations

from typing import Any


def checking_account(account_id: str, *, available: float, current: float) -> dict[str, Any]:
    """A checking account as ``/accounts/get`` lists it, in USD."""
    return {
        "account_id": account_id,
        "balances": {
            "available": available,
            "current": current,
            "limit": None,
            "iso_currency_code": "USD",
            "unofficial_currency_code": None,
        },
        "mask": "0000",
        "name": "Checking",
        "subtype": "checking",
        "type": "depository",
    }
