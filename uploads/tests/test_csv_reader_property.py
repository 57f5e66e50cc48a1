"""Property: for every transactions CSV that validation accepts, the reader of validated files
(``read_validated``, what the upload task reads a stored file with when its digest is the one
validated at upload) returns exactly the records validation returned, or None (the task then
validates in full). No database.

Files are drawn from the odd inputs a CSV can hold: columns in any order, padded, twice, or
named like a model field the reader does not read (``category``, ``name.first``,
``location``); quoted cells, embedded newlines and lone ``\\r``, every line ending, a BOM,
blank rows and rows shorter than the header; numbers with signs, exponents, underscores,
non-ASCII digits, ``NaN`` and ``Infinity``, at the columns' bounds and halves of their last
place; dates that are no day, in other digits or without padding; every spelling of a flag;
categories present, blank or detailed only. Examples: ``CSV_READER_EXAMPLES`` (300 by
default; run it with 20000 before changing either reader).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from uploads.validation import UploadRejected, parse_upload, read_validated

EXAMPLES = int(os.environ.get("CSV_READER_EXAMPLES", "300"))
KNOWN = {"acc-1", "acc-2"}
REQUIRED = ("account_id", "transaction_id", "date", "amount")
# The cells drawn for each column: ones validation accepts, and (drawn rarely, so that most
# files pass) ones it refuses.
CELLS = {
    "account_id": (["acc-1", "acc-2", " acc-1 "], ["ghost", ""]),
    "date": (
        ["2024-02-29", "2026-10-01", " 2026-01-31 "],
        ["2024-02-30", "\uff12\uff10\uff12\uff16-10-01", "2026-1-01", ""],  # fullwidth
    ),
    "authorized_date": (["", "2024-02-29", "2026-10-01"], ["2024-02-30", "20261001"]),
    "amount": (
        [
            "1",
            "-0",
            "+1.5",
            "1e3",
            "1E-5",
            "1_000",
            "\u0663",  # ARABIC-INDIC DIGIT THREE
            "99999999999999.99994",
            "-99999999999999.99994",
            "0.00005",
            "-0.00005",
            "0.00015",
            "0E+10",
            "1e-99999",
            " 12.50 ",
        ],
        ["NaN", "Infinity", "-inf", "99999999999999.99995", "1e400", "twelve", ""],
    ),
    "name": (["", "x", "two\nlines", "a\rb", 'q"u', "\u00a0v\u00a0", "x,y", "\\N", "\t"], []),
    "merchant_name": (["", "Walmart", " w ", "Caf\u00e9 \u6771\u4eac"], []),
    "payment_channel": (["", "online", "in store", "other"], ["Online"]),
    "pending": (
        ["", "true", "TRUE", "t", "yes", "Y", "false", "0", "1", "n", "No", " True "],
        ["maybe"],
    ),
    "iso_currency_code": (["USD", "CAD"], ["", "usd", "US"]),
    "unofficial_currency_code": (["", "BTC", "x"], []),
    "personal_finance_category.primary": (["", "INCOME", "NEW_PRIMARY"], []),
    "personal_finance_category.detailed": (["", "INCOME_WAGES"], []),
    "location.city": (["", "Poway"], []),
    "location.lat": (["", "1.5"], ["x", "NaN"]),
    "category": ([""], ["Food"]),  # a list in Plaid: no CSV cell holds one
}
NAMED = {"personal_finance_category", "location", "name.first"}
OPTIONAL = [
    *(column for column in CELLS if column not in REQUIRED),
    "personal_finance_category",
    "location",
    "name.first",
    " pending",
    "Amount",
    "not_plaid",
    "",
]


@st.composite
def transactions_csv(draw: st.DrawFn) -> bytes:
    extra = draw(st.lists(st.sampled_from(OPTIONAL), max_size=8, unique=True))
    if draw(st.integers(0, 9)) and "iso_currency_code" not in extra:
        extra.append("iso_currency_code")  # a currency column, mostly: rows need one
    header = draw(st.permutations([*REQUIRED, *extra]))
    pad = draw(st.sampled_from(["", " ", "\t"]))
    rows = []
    for index in range(draw(st.integers(0, 6))):
        shape = draw(st.integers(0, 19))
        if shape == 0:  # a blank row, of any width
            rows.append([""] * draw(st.integers(0, len(header) + 1)))
            continue
        row = []
        for column in header:
            name = column.strip()
            if name == "transaction_id":
                twice = draw(st.integers(0, 29)) == 0
                row.append(
                    "tx-0" if twice else draw(st.sampled_from([f"tx-{index}", f" tx-{index} "]))
                )
            else:
                # A column named like a model field it does not type: blank, or refused.
                valid, invalid = CELLS.get(name, ([""], ["z"]) if name in NAMED else (["z"], []))
                odd = invalid and draw(st.integers(0, 29)) == 0
                row.append(draw(st.sampled_from(invalid if odd else valid)))
        if shape == 1:  # short
            row = row[: draw(st.integers(0, len(row)))]
        rows.append(row)
    quote_all = draw(st.booleans())

    def cell(value: str) -> str:
        if quote_all or any(c in value for c in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    # Padding before a quote makes the quote part of the name (not the header we meant).
    pad = "" if quote_all else pad
    lines = [",".join(pad + cell(c) for c in header), *(",".join(map(cell, r)) for r in rows)]
    tail = draw(st.sampled_from(["", end, end + end, end + " , " + end]))
    return (draw(st.sampled_from(["", "\ufeff"])) + end.join(lines) + tail).encode()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(content=transactions_csv())
def test_the_reader_of_validated_files_returns_the_records_validation_returned(
    content: bytes,
) -> None:
    try:
        validated = parse_upload(content, known_account_ids=KNOWN)
    except UploadRejected:
        return  # never stored, never read
    read = read_validated(content)

    event("read" if read is not None else "left to validation")
    if read is not None:
        assert read == validated
        # As the columns receive them too (the same digits and exponent of each number).
        assert [{k: str(v) for k, v in r.items()} for r in read.transactions] == [
            {k: str(v) for k, v in r.items()} for r in validated.transactions
        ]
