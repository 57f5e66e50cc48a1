"""Plaid's legacy ``category`` list mapped to personal finance categories (PFC).

Older Items, and some transactions of newer ones, carry no ``personal_finance_category`` but
the legacy hierarchy (``["Food and Drink", "Restaurants"]``). The engine reads PFC primaries,
so a transaction without a PFC takes the primary (and, where one fits, the detailed
category) of the longest prefix of its legacy list found below. Levels are compared
case-insensitively. A list that matches nothing leaves the transaction uncategorised.

Legacy transfers, interest and taxes do not say which way the money went; for those the sign
of the amount decides (Plaid: negative = money in): ``"=transfer"`` in a row below names the
pair in ``_BY_SIGN``. The table is in the README ("Legacy categories").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from uploads import plaid

PRIMARIES = plaid.values("personal_finance_category_primary")

# The detailed category for money in, and for money out.
_BY_SIGN: dict[str, tuple[str, str]] = {
    "transfer": ("TRANSFER_IN_OTHER_TRANSFER_IN", "TRANSFER_OUT_OTHER_TRANSFER_OUT"),
    "interest": ("INCOME_INTEREST_EARNED", "BANK_FEES_INTEREST_CHARGE"),
    "tax": ("INCOME_TAX_REFUND", "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT"),
}

# Legacy path prefix (lower case) -> the PFC detailed category (its primary is the prefix), or
# "=name" for the _BY_SIGN pair of that name.
LEGACY_MAP: dict[tuple[str, ...], str] = {
    ("bank fees",): "BANK_FEES_OTHER_BANK_FEES",
    ("bank fees", "overdraft"): "BANK_FEES_OVERDRAFT_FEES",
    ("bank fees", "atm"): "BANK_FEES_ATM_FEES",
    ("bank fees", "late payment"): "BANK_FEES_LATE_FEES",
    ("bank fees", "foreign transaction"): "BANK_FEES_FOREIGN_TRANSACTION_FEES",
    ("cash advance",): "TRANSFER_IN_CASH_ADVANCES_AND_LOANS",
    ("community",): "GOVERNMENT_AND_NON_PROFIT_OTHER_GOVERNMENT_AND_NON_PROFIT",
    ("community", "education"): "GENERAL_SERVICES_EDUCATION",
    ("community", "day care and preschools"): "GENERAL_SERVICES_CHILDCARE",
    ("community", "religious"): "GOVERNMENT_AND_NON_PROFIT_DONATIONS",
    ("food and drink",): "FOOD_AND_DRINK_OTHER_FOOD_AND_DRINK",
    ("food and drink", "restaurants"): "FOOD_AND_DRINK_RESTAURANT",
    ("food and drink", "restaurants", "coffee shop"): "FOOD_AND_DRINK_COFFEE",
    ("food and drink", "restaurants", "fast food"): "FOOD_AND_DRINK_FAST_FOOD",
    ("food and drink", "bar"): "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR",
    ("healthcare",): "MEDICAL_OTHER_MEDICAL",
    ("healthcare", "healthcare services", "dentists"): "MEDICAL_DENTAL_CARE",
    ("healthcare", "healthcare services", "optometrists"): "MEDICAL_EYE_CARE",
    ("healthcare", "physicians"): "MEDICAL_PRIMARY_CARE",
    ("interest",): "=interest",
    ("interest", "interest earned"): "INCOME_INTEREST_EARNED",
    ("interest", "interest charged"): "BANK_FEES_INTEREST_CHARGE",
    ("payment",): "LOAN_PAYMENTS_OTHER_PAYMENT",
    ("payment", "credit card"): "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT",
    ("payment", "rent"): "RENT_AND_UTILITIES_RENT",
    ("payment", "loan"): "LOAN_PAYMENTS_OTHER_PAYMENT",
    ("recreation",): "ENTERTAINMENT_OTHER_ENTERTAINMENT",
    ("recreation", "gyms and fitness centers"): "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS",
    ("service",): "GENERAL_SERVICES_OTHER_GENERAL_SERVICES",
    ("service", "utilities"): "RENT_AND_UTILITIES_OTHER_UTILITIES",
    ("service", "utilities", "electric"): "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
    ("service", "utilities", "gas"): "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
    ("service", "utilities", "water"): "RENT_AND_UTILITIES_WATER",
    (
        "service",
        "utilities",
        "sanitation and waste management",
    ): "RENT_AND_UTILITIES_SEWAGE_AND_WASTE_MANAGEMENT",
    ("service", "telecommunication services"): "RENT_AND_UTILITIES_TELEPHONE",
    ("service", "cable"): "RENT_AND_UTILITIES_INTERNET_AND_CABLE",
    ("service", "internet services"): "RENT_AND_UTILITIES_INTERNET_AND_CABLE",
    ("service", "insurance"): "GENERAL_SERVICES_INSURANCE",
    ("service", "financial", "taxes"): "=tax",
    ("service", "automotive"): "GENERAL_SERVICES_AUTOMOTIVE",
    ("service", "entertainment"): "ENTERTAINMENT_OTHER_ENTERTAINMENT",
    ("service", "subscription"): "GENERAL_SERVICES_OTHER_GENERAL_SERVICES",
    ("service", "storage"): "GENERAL_SERVICES_STORAGE",
    ("service", "shipping and freight"): "GENERAL_SERVICES_POSTAGE_AND_SHIPPING",
    ("service", "home improvement"): "HOME_IMPROVEMENT_OTHER_HOME_IMPROVEMENT",
    ("shops",): "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
    ("shops", "supermarkets and groceries"): "FOOD_AND_DRINK_GROCERIES",
    ("shops", "food and beverage store"): "FOOD_AND_DRINK_GROCERIES",
    ("shops", "pharmacies"): "MEDICAL_PHARMACIES_AND_SUPPLEMENTS",
    ("shops", "hardware store"): "HOME_IMPROVEMENT_HARDWARE",
    ("shops", "furniture and home decor"): "HOME_IMPROVEMENT_FURNITURE",
    ("shops", "clothing and accessories"): "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES",
    ("shops", "computers and electronics"): "GENERAL_MERCHANDISE_ELECTRONICS",
    ("shops", "digital purchase"): "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
    ("tax",): "=tax",
    ("tax", "refund"): "INCOME_TAX_REFUND",
    ("tax", "payment"): "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT",
    ("transfer",): "=transfer",
    ("transfer", "payroll"): "INCOME_WAGES",
    ("transfer", "payroll", "benefits"): "INCOME_UNEMPLOYMENT",
    ("transfer", "deposit"): "TRANSFER_IN_DEPOSIT",
    ("transfer", "credit"): "TRANSFER_IN_OTHER_TRANSFER_IN",
    ("transfer", "debit"): "TRANSFER_OUT_OTHER_TRANSFER_OUT",
    ("transfer", "withdrawal"): "TRANSFER_OUT_WITHDRAWAL",
    ("transfer", "withdrawal", "atm"): "TRANSFER_OUT_WITHDRAWAL",
    ("transfer", "savings"): "TRANSFER_OUT_SAVINGS",
    ("transfer", "keep the change savings program"): "TRANSFER_OUT_SAVINGS",
    ("travel",): "TRAVEL_OTHER_TRAVEL",
    ("travel", "airlines and aviation services"): "TRAVEL_FLIGHTS",
    ("travel", "lodging"): "TRAVEL_LODGING",
    ("travel", "car service"): "TRANSPORTATION_TAXIS_AND_RIDE_SHARES",
    ("travel", "taxi"): "TRANSPORTATION_TAXIS_AND_RIDE_SHARES",
    ("travel", "gas stations"): "TRANSPORTATION_GAS",
    ("travel", "parking"): "TRANSPORTATION_PARKING",
    ("travel", "public transportation services"): "TRANSPORTATION_PUBLIC_TRANSIT",
    ("travel", "car rental"): "TRAVEL_RENTAL_CARS",
}
_LONGEST = max(len(path) for path in LEGACY_MAP)


def from_legacy(category: Sequence[str], amount: Decimal | None) -> tuple[str, str] | None:
    """(primary, detailed) for a legacy category list, or None when no prefix is known.

    ``amount`` (Plaid's sign) settles the direction of transfers, interest and taxes that the
    list leaves open; without it, those stay uncategorised.
    """
    path = tuple(level.strip().lower() for level in category[:_LONGEST])
    for length in range(len(path), 0, -1):
        detailed = LEGACY_MAP.get(path[:length])
        if detailed is None:
            continue
        if detailed.startswith("="):
            if amount is None:
                return None
            money_in, money_out = _BY_SIGN[detailed[1:]]
            detailed = money_in if amount < 0 else money_out
        return primary_of(detailed), detailed
    return None


def primary_of(detailed: str) -> str:
    """The PFC primary a detailed category starts with (the longest that fits)."""
    return max((p for p in PRIMARIES if detailed.startswith(f"{p}_")), key=len)
