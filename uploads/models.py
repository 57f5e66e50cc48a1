"""Data uploads: storage, Plaid validation, ingestion of accounts, transactions, liabilities."""
