"""Synthetic users in Plaid's shapes, for demos and benchmarks. Deterministic for a seed; no
real people: names are merchants, emails end in ``example.invalid``.

Each archetype aims at one persona (and one has none), so a demo set covers them all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

ARCHETYPES = (
    "high_utilization",
    "variable_income_budgeter",
    "subscription_heavy",
    "savings_builder",
    "cash_flow_stretched",
    "steady",
)
AGE_BANDS = ("18-29", "30-44", "45-64", "65+")
END = date(2026, 10, 31)
DAYS = 200

SUBSCRIPTIONS = [
    ("Netflix", "15.49", "ENTERTAINMENT"),
    ("Spotify", "11.99", "ENTERTAINMENT"),
    ("Hulu", "17.99", "ENTERTAINMENT"),
    ("Planet Fitness", "24.99", "PERSONAL_CARE"),
    ("iCloud", "2.99", "GENERAL_SERVICES"),
    ("NYT Digital", "17.00", "GENERAL_SERVICES"),
]
# Recurring bills: essentials, never subscriptions (amounts move up to 25 % month to month).
BILLS = [
    ("PG&E", 110, "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY"),
    ("City Water", 45, "RENT_AND_UTILITIES_WATER"),
    ("Comcast", 70, "RENT_AND_UTILITIES_INTERNET_AND_CABLE"),
    ("Verizon", 85, "RENT_AND_UTILITIES_TELEPHONE"),
]
EVERYDAY = [
    ("Whole Foods", "FOOD_AND_DRINK", 40, 140),
    ("Trader Joe's", "FOOD_AND_DRINK", 25, 90),
    ("Shell", "TRANSPORTATION", 30, 70),
    ("Chipotle", "FOOD_AND_DRINK", 9, 25),
    ("Target", "GENERAL_MERCHANDISE", 15, 160),
    ("Amazon", "GENERAL_MERCHANDISE", 8, 120),
    ("Uber", "TRANSPORTATION", 7, 40),
    ("CVS", "MEDICAL", 5, 45),
]


@dataclass
class SyntheticUser:
    email: str
    archetype: str
    age_band: str
    body: dict[str, Any]


class _Builder:
    def __init__(self, rng: random.Random, prefix: str) -> None:
        self.rng = rng
        self.prefix = prefix
        self.transactions: list[dict[str, Any]] = []
        self.accounts: list[dict[str, Any]] = []
        self.credit: list[dict[str, Any]] = []

    def account(
        self,
        key: str,
        kind: str,
        subtype: str,
        name: str,
        current: float,
        limit: float | None = None,
    ) -> str:
        account_id = f"{self.prefix}-{key}"
        self.accounts.append(
            {
                "account_id": account_id,
                "balances": {
                    "available": None if kind == "credit" else current,
                    "current": current,
                    "limit": limit,
                    "iso_currency_code": "USD",
                    "unofficial_currency_code": None,
                },
                "mask": f"{self.rng.randint(1000, 9999)}",
                "name": name,
                "official_name": None,
                "subtype": subtype,
                "type": kind,
            }
        )
        return account_id

    def tx(
        self,
        account_id: str,
        day: date,
        amount: float,
        merchant: str,
        primary: str,
        detailed: str = "",
    ) -> None:
        n = len(self.transactions)
        self.transactions.append(
            {
                "account_id": account_id,
                "transaction_id": f"{self.prefix}-t{n:05d}",
                "amount": round(amount, 2),
                "iso_currency_code": "USD",
                "unofficial_currency_code": None,
                "date": day.isoformat(),
                "name": merchant.upper(),
                "merchant_name": merchant,
                "payment_channel": "online"
                if primary in ("ENTERTAINMENT", "GENERAL_SERVICES")
                else "in store",
                "pending": False,
                "personal_finance_category": {
                    "primary": primary,
                    "detailed": detailed or f"{primary}_OTHER",
                },
            }
        )

    def payroll(self, account_id: str, every: int, amount: float, jitter: float = 0.0) -> None:
        day = END - timedelta(days=self.rng.randint(0, every - 1))
        while day > END - timedelta(days=DAYS):
            self.tx(
                account_id,
                day,
                -amount * (1 + self.rng.uniform(-jitter, jitter)),
                "Acme Payroll",
                "INCOME",
                "INCOME_WAGES",
            )
            day -= timedelta(days=every)

    def irregular_income(self, account_id: str) -> None:
        day = END - timedelta(days=self.rng.randint(0, 20))
        while day > END - timedelta(days=DAYS):
            self.tx(
                account_id,
                day,
                -self.rng.uniform(1500, 4200),
                "Client Payment",
                "INCOME",
                "INCOME_OTHER_INCOME",
            )
            day -= timedelta(days=self.rng.randint(48, 70))

    def everyday(self, account_id: str, per_week: int, scale: float = 1.0) -> None:
        for week in range(DAYS // 7):
            for _ in range(per_week):
                merchant, primary, low, high = self.rng.choice(EVERYDAY)
                day = END - timedelta(days=week * 7 + self.rng.randint(0, 6))
                self.tx(account_id, day, self.rng.uniform(low, high) * scale, merchant, primary)

    def monthly(
        self, account_id: str, merchant: str, amount: float, primary: str, detailed: str = ""
    ) -> None:
        day = END - timedelta(days=self.rng.randint(0, 27))
        while day > END - timedelta(days=DAYS):
            self.tx(account_id, day, amount, merchant, primary, detailed)
            day -= timedelta(days=30)

    def bills(self, account_id: str) -> None:
        """Monthly utility bills whose amounts move with the season."""
        for merchant, amount, detailed in BILLS:
            day = END - timedelta(days=self.rng.randint(0, 27))
            while day > END - timedelta(days=DAYS):
                charge = amount * (1 + self.rng.uniform(-0.25, 0.25))
                self.tx(account_id, day, charge, merchant, "RENT_AND_UTILITIES", detailed)
                day -= timedelta(days=30)

    def card_liability(
        self,
        account_id: str,
        interest: float,
        minimum: float,
        last_payment: float,
        overdue: bool = False,
    ) -> None:
        self.credit.append(
            {
                "account_id": account_id,
                "aprs": [
                    {
                        "apr_percentage": 24.99,
                        "apr_type": "purchase_apr",
                        "balance_subject_to_apr": None,
                        "interest_charge_amount": interest,
                    }
                ],
                "is_overdue": overdue,
                "last_payment_amount": last_payment,
                "last_payment_date": (END - timedelta(days=12)).isoformat(),
                "last_statement_balance": None,
                "minimum_payment_amount": minimum,
                "next_payment_due_date": (END + timedelta(days=18)).isoformat(),
            }
        )

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"accounts": self.accounts, "transactions": self.transactions}
        if self.credit:
            data["liabilities"] = {"credit": self.credit, "mortgage": None, "student": None}
        return data


def synthetic_user(index: int, seed: int) -> SyntheticUser:
    rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 (synthetic data, not secrets)
    archetype = ARCHETYPES[index % len(ARCHETYPES)]
    b = _Builder(rng, f"s{seed}u{index}")
    checking = b.account("chk", "depository", "checking", "Everyday Checking", 0)
    if archetype == "high_utilization":
        card = b.account(
            "card", "credit", "credit card", "Visa Signature", 3400 + rng.randint(0, 600), 5000
        )
        b.card_liability(card, interest=round(rng.uniform(40, 90), 2), minimum=35, last_payment=35)
        b.payroll(checking, 14, 1900)
        b.everyday(card, 6)
        b.monthly(
            checking, "Greystone Apartments", 1400, "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT"
        )
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = 1200
    elif archetype == "variable_income_budgeter":
        b.irregular_income(checking)
        b.everyday(checking, 7)
        b.monthly(
            checking, "Maple Street Rent", 1100, "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT"
        )
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = rng.randint(
            300, 900
        )
    elif archetype == "subscription_heavy":
        card = b.account("card", "credit", "credit card", "Mastercard", 600, 6000)
        b.payroll(checking, 14, 2300)
        for merchant, amount, primary in SUBSCRIPTIONS[: rng.randint(4, 6)]:
            b.monthly(card, merchant, float(amount), primary)
        b.everyday(card, 4)
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = 4200
        b.tx(
            checking,
            END - timedelta(days=3),
            600,
            "Mastercard Payment",
            "LOAN_PAYMENTS",
            "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT",
        )
        b.bills(checking)  # utilities beside the subscriptions: bills, not subscriptions
    elif archetype == "savings_builder":
        savings = b.account(
            "sav", "depository", "savings", "High Yield Savings", 8000 + rng.randint(0, 4000)
        )
        card = b.account("card", "credit", "credit card", "Discover It", 400, 8000)
        b.payroll(checking, 14, 2600)
        b.everyday(card, 4)
        day = END - timedelta(days=rng.randint(0, 27))
        while day > END - timedelta(days=DAYS):
            b.tx(savings, day, -450, "Transfer from Checking", "TRANSFER_IN", "TRANSFER_IN_SAVINGS")
            b.tx(checking, day, 450, "Transfer to Savings", "TRANSFER_OUT", "TRANSFER_OUT_SAVINGS")
            day -= timedelta(days=30)
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = 3100
    elif archetype == "cash_flow_stretched":
        b.payroll(checking, 14, 1250)
        b.everyday(checking, 9, scale=1.15)
        b.monthly(checking, "Oak Court Rent", 1150, "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_RENT")
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = rng.randint(
            150, 600
        )
    else:
        b.account("sav", "depository", "savings", "Savings", 15000)
        card = b.account("card", "credit", "credit card", "Amex Blue", 300, 10000)
        b.payroll(checking, 14, 3100)
        b.everyday(card, 3)
        b.accounts[0]["balances"]["current"] = b.accounts[0]["balances"]["available"] = 6500
    return SyntheticUser(
        email=f"demo-{seed}-{index:05d}@example.invalid",
        archetype=archetype,
        age_band=AGE_BANDS[rng.randrange(len(AGE_BANDS))],
        body=b.body(),
    )
