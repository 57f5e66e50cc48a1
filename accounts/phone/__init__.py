"""Phone numbers: texted one-time codes, sign-in with them, linking and unlinking a number."""
