"""The capacity of the columns uploads are stored in, shared by the models and the validator
(which must refuse exactly what the columns cannot hold; a test reads both)."""

from __future__ import annotations

# Every number we keep is NUMERIC(18,4): Plaid sends up to four decimals (``23631.9805``).
NUMBER_DIGITS = 18
NUMBER_PLACES = 4
# Plaid ids (account, transaction) sit in a unique index. Plaid's are about 40 characters and
# its schema sets no limit; 255 stays far inside what a PostgreSQL index entry can hold.
ID_MAX_LENGTH = 255
