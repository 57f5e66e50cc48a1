"""Consent records (versioned, append-only history) and /consent."""
