"""Hand-built engine inputs for table-driven tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from recommendations.engine.data import AccountData, LiabilityData, TransactionData, UserData

AS_OF = date(2026, 10, 31)


def thresholds(**overrides: Any) -> dict[str, Any]:
    return {**settings.ENGINE, **overrides}


def checking(balance: str = "1000", available: str | None = None) -> AccountData:
    return AccountData(
        "chk",
        "depository",
        "checking",
        "Checking",
        "1111",
        Decimal(balance),
        Decimal(available) if available else None,
    )


def savings_account(balance: str = "5000") -> AccountData:
    return AccountData("sav", "depository", "savings", "Savings", "2222", Decimal(balance))


def card(balance: str, limit: str, mask: str = "4523", account_id: str = "card") -> AccountData:
    return AccountData(
        account_id, "credit", "credit card", "Visa", mask, Decimal(balance), None, Decimal(limit)
    )


class Tx:
    """Transactions with sequential ids."""

    def __init__(self) -> None:
        self.items: list[TransactionData] = []

    def add(
        self,
        days_before: int,
        amount: str | int | float,
        merchant: str = "Shop",
        primary: str = "GENERAL_MERCHANDISE",
        detailed: str = "",
        account: str = "chk",
        pending: bool = False,
        currency: str = "USD",
    ) -> Tx:
        self.items.append(
            TransactionData(
                transaction_id=f"t{len(self.items)}",
                account_id=account,
                date=AS_OF - timedelta(days=days_before),
                amount=Decimal(str(amount)),
                merchant=merchant,
                pfc_primary=primary,
                pfc_detailed=detailed,
                pending=pending,
                currency=currency,
            )
        )
        return self

    def every(self, days: list[int], amount: str | int | float, merchant: str, **kwargs: Any) -> Tx:
        for day in days:
            self.add(day, amount, merchant, **kwargs)
        return self


def data(
    tx: Tx,
    accounts: list[AccountData] | None = None,
    liabilities: list[LiabilityData] | None = None,
) -> UserData:
    return UserData(
        accounts=accounts or [checking()], transactions=tx.items, liabilities=liabilities or []
    )
