"""The operator console on the Django admin, the /operator API and analytics."""
