"""Plaid's records as Pydantic models: the first pass of validating an upload (DESIGN §6).

One model per record of Plaid's responses (``AccountsGetResponse``, ``TransactionsGet``/
``SyncResponse``, ``LiabilitiesGetResponse``; verbatim in ``tests/fixtures/plaid_schemas``).
Each checks one record on its own; what involves several records (an account referenced but
absent, duplicate ids, the kind of account a liability sits on, one currency code) is the
second pass, ``uploads.plaid.rules``. Models see parsed JSON (numbers already ``Decimal``)
or a CSV row shaped alike, never raw bytes: Pydantic's own JSON parser reads numbers as
binary floats, and a column keeps 18 exact digits.

- Unknown fields are ignored. Fields we read but do not keep are left out; ``location`` is
  typed as Plaid's schema types it, and dropped after.
- ``None`` is accepted where Plaid's schema makes a field nullable, and where Plaid calls a
  field required but the upload does without it (``name``, ``pending``, ``payment_channel``,
  a balance, ...: a CSV has no such column). What we cannot do without is required: ids,
  ``type``, ``balances``, ``date``, ``amount``, ``aprs`` and their rate and type, a student
  loan's rate, a mortgage's account. An empty string counts as absent (``errors`` retries
  the record without it), except for lists.
- Strict types: a number is a ``Decimal`` (never a string, a bool or a float), text a
  ``str``, a flag a ``bool``, a date a ``YYYY-MM-DD`` string that is a real day.
- Every number kept must fit ``NUMERIC(18,4)`` once rounded to 4 places as PostgreSQL rounds
  (halves away from zero): ``Money`` admits exactly those (``uploads.limits``; a test reads
  both the columns and these bounds), and ``rules.money`` does the rounding.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from uploads import plaid
from uploads.limits import ID_MAX_LENGTH, NUMBER_DIGITS, NUMBER_PLACES

NUMBER_QUANTUM = Decimal(1).scaleb(-NUMBER_PLACES)
MAX_MONEY = Decimal(10) ** (NUMBER_DIGITS - NUMBER_PLACES)
# A number rounds to MAX_MONEY (one too many digits) from MAX_MONEY - QUANTUM / 2 on: the
# bound is checked before rounding, by comparison only (``1e999999999`` cannot overflow it).
_MONEY_BOUND = MAX_MONEY - NUMBER_QUANTUM / 2
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

Money = Annotated[Decimal, Field(gt=-_MONEY_BOUND, lt=_MONEY_BOUND)]
# The pattern first (``date.fromisoformat`` also reads ``20261001``), then a real day.
Day = Annotated[str, Field(pattern=DATE_PATTERN), AfterValidator(date.fromisoformat)]
RequiredId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
OptionalId = Annotated[str, Field(max_length=ID_MAX_LENGTH)]
IsoCurrency = Annotated[str, Field(max_length=3, pattern=CURRENCY_PATTERN)]


# Plaid's enums with their newer values (``uploads/plaid/enums.json``). mypy reads them as
# text: a Literal built from data is opaque to it.
def _choices(values: frozenset[str | None]) -> tuple[str | None, ...]:
    return tuple(sorted(values, key=str))  # some of Plaid's enums list null


if TYPE_CHECKING:
    AccountType: TypeAlias = str
    AccountSubtype: TypeAlias = str
    PaymentChannel: TypeAlias = str
    AprType: TypeAlias = str
    LoanStatusType: TypeAlias = str
    RepaymentPlanType: TypeAlias = str
else:
    AccountType = Literal[_choices(plaid.account_types())]
    AccountSubtype = Literal[_choices(frozenset().union(*plaid.account_subtypes().values()))]
    PaymentChannel = Literal[_choices(plaid.values("payment_channel"))]
    AprType = Literal[_choices(plaid.values("apr_type"))]
    LoanStatusType = Literal[_choices(plaid.values("student_loan_status_type"))]
    RepaymentPlanType = Literal[_choices(plaid.values("student_repayment_plan_type"))]


class PlaidRecord(BaseModel):
    """Strict, unknown fields ignored, built once at import."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Balances(PlaidRecord):
    """An account's ``balances``."""

    current: Money | None = None
    available: Money | None = None
    limit: Money | None = None
    iso_currency_code: IsoCurrency | None = None
    unofficial_currency_code: str | None = None


class Account(PlaidRecord):
    """An item of ``accounts``. ``subtype`` is one of Plaid's; whether it belongs to the
    ``type`` is a rule (``rules``)."""

    account_id: RequiredId
    type: AccountType
    subtype: AccountSubtype | None = None
    balances: Balances
    name: str | None = None
    official_name: str | None = None
    mask: str | None = None


class PersonalFinanceCategory(PlaidRecord):
    """A transaction's ``personal_finance_category``. A primary newer than our list is kept
    as sent (Plaid adds primaries)."""

    primary: str | None = None
    detailed: str | None = None


class Location(PlaidRecord):
    """A transaction's ``location``: every field nullable, as in Plaid's schema."""

    address: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    # Not stored: any finite number.
    lat: Decimal | None = None
    lon: Decimal | None = None
    store_number: str | None = None


class Transaction(PlaidRecord):
    """An item of ``transactions``, ``added`` or ``modified``. Fields in the order errors
    are listed."""

    account_id: RequiredId
    transaction_id: RequiredId
    date: Day
    authorized_date: Day | None = None
    amount: Money
    # Both may be empty (transfers, checks): the engine then has no merchant to group by.
    name: str | None = None
    merchant_name: str | None = None
    payment_channel: PaymentChannel | None = None
    pending: bool | None = None
    iso_currency_code: IsoCurrency | None = None
    unofficial_currency_code: str | None = None
    personal_finance_category: PersonalFinanceCategory | None = None
    category: list[str] | None = None
    location: Location | None = None


class RemovedTransaction(PlaidRecord):
    """An item of ``removed`` (transactions sync)."""

    transaction_id: RequiredId


class Apr(PlaidRecord):
    """An item of a credit card's ``aprs``."""

    apr_percentage: Money
    apr_type: AprType
    balance_subject_to_apr: Money | None = None
    interest_charge_amount: Money | None = None


class CreditLiability(PlaidRecord):
    """An item of ``liabilities.credit``. Plaid makes ``account_id`` nullable."""

    account_id: OptionalId | None = None
    aprs: list[Apr]
    is_overdue: bool | None = None
    last_payment_amount: Money | None = None
    last_statement_balance: Money | None = None
    minimum_payment_amount: Money | None = None
    last_payment_date: Day | None = None
    last_statement_issue_date: Day | None = None
    next_payment_due_date: Day | None = None


class InterestRate(PlaidRecord):
    """A mortgage's ``interest_rate``."""

    percentage: Money | None = None
    type: str | None = None


class MortgageLiability(PlaidRecord):
    """An item of ``liabilities.mortgage``: its account is required (Plaid's schema too)."""

    account_id: RequiredId
    interest_rate: InterestRate | None = None
    current_late_fee: Money | None = None
    escrow_balance: Money | None = None
    last_payment_amount: Money | None = None
    next_monthly_payment: Money | None = None
    origination_principal_amount: Money | None = None
    past_due_amount: Money | None = None
    ytd_interest_paid: Money | None = None
    ytd_principal_paid: Money | None = None
    last_payment_date: Day | None = None
    maturity_date: Day | None = None
    next_payment_due_date: Day | None = None
    origination_date: Day | None = None
    has_pmi: bool | None = None
    has_prepayment_penalty: bool | None = None
    loan_type_description: str | None = None
    loan_term: str | None = None


class LoanStatus(PlaidRecord):
    """A student loan's ``loan_status``."""

    type: LoanStatusType | None = None


class RepaymentPlan(PlaidRecord):
    """A student loan's ``repayment_plan``."""

    type: RepaymentPlanType | None = None


class StudentLiability(PlaidRecord):
    """An item of ``liabilities.student``. Plaid makes ``account_id`` nullable."""

    account_id: OptionalId | None = None
    interest_rate_percentage: Money
    is_overdue: bool | None = None
    last_payment_amount: Money | None = None
    last_statement_balance: Money | None = None
    minimum_payment_amount: Money | None = None
    origination_principal_amount: Money | None = None
    outstanding_interest_amount: Money | None = None
    ytd_interest_paid: Money | None = None
    ytd_principal_paid: Money | None = None
    expected_payoff_date: Day | None = None
    last_payment_date: Day | None = None
    last_statement_issue_date: Day | None = None
    next_payment_due_date: Day | None = None
    origination_date: Day | None = None
    loan_status: LoanStatus | None = None
    repayment_plan: RepaymentPlan | None = None
    loan_name: str | None = None


LIABILITY_MODELS: dict[str, type[PlaidRecord]] = {
    "credit": CreditLiability,
    "mortgage": MortgageLiability,
    "student": StudentLiability,
}


def _date_fields() -> frozenset[str]:
    """The names of the fields holding a ``Day`` (their type errors speak of dates)."""
    records: list[type[BaseModel]] = [Account, Transaction, *LIABILITY_MODELS.values()]
    return frozenset(
        name
        for model in records
        for name, info in model.model_fields.items()
        if "fromisoformat" in repr((info.annotation, info.metadata))
    )


DATE_FIELDS = _date_fields()
