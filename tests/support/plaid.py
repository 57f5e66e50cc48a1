"""Plaid's example bodies (verbatim copies of shared/plaid, kept in
``uploads/tests/fixtures/plaid``) and builders of small bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from uploads.plaid.bodies import checking_account

FIXTURES = Path(__file__).resolve().parents[2] / "uploads" / "tests" / "fixtures" / "plaid"
EXAMPLES = ["accounts_get", "transactions_get", "transactions_sync", "liabilities_get"]


def example_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(example_bytes(name))
    return data


def account(account_id: str = "acc-1", **overrides: Any) -> dict[str, Any]:
    base = checking_account(account_id, available=100, current=110)
    base.update(overrides)
    return base


def transaction(
    transaction_id: str = "tx-1", account_id: str = "acc-1", **overrides: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "transaction_id": transaction_id,
        "account_id": account_id,
        "amount": 12.5,
        "iso_currency_code": "USD",
        "unofficial_currency_code": None,
        "date": "2026-10-01",
        "name": "NETFLIX.COM",
        "merchant_name": "Netflix",
        "payment_channel": "online",
        "pending": False,
        "personal_finance_category": {
            "primary": "ENTERTAINMENT",
            "detailed": "ENTERTAINMENT_TV_AND_MOVIES",
        },
    }
    base.update(overrides)
    return base


def body(**parts: Any) -> bytes:
    return json.dumps(parts).encode()
