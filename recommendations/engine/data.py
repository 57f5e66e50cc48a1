"""Plain inputs of the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class AccountData:
    account_id: str
    type: str
    subtype: str
    name: str = ""
    mask: str = ""
    current: Decimal | None = None
    available: Decimal | None = None
    limit: Decimal | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class TransactionData:
    transaction_id: str
    account_id: str
    date: date
    amount: Decimal  # Plaid's sign: positive = money out
    merchant: str  # merchant_name, else name
    pfc_primary: str
    pfc_detailed: str = ""
    pending: bool = False
    currency: str = "USD"
    category_source: str = "pfc"  # pfc | legacy (mapped from Plaid's old list) | none


@dataclass(frozen=True)
class LiabilityData:
    account_id: str
    kind: str  # credit | mortgage | student
    is_overdue: bool | None = None
    minimum_payment_amount: Decimal | None = None
    last_payment_amount: Decimal | None = None
    interest_charged: Decimal = Decimal(0)  # sum of the APRs' interest_charge_amount
    interest_rate_percentage: Decimal | None = None


@dataclass
class UserData:
    accounts: list[AccountData] = field(default_factory=list)
    transactions: list[TransactionData] = field(default_factory=list)
    liabilities: list[LiabilityData] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_of(self) -> date | None:
        """The latest posted transaction date: the end of every window (never the clock)."""
        posted = [t.date for t in self.transactions if not t.pending]
        return max(posted) if posted else None
