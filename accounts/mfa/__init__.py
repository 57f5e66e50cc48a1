"""Two-factor authentication: TOTP with recovery codes."""
