"""Users: registration, the profile, email verification, password recovery, roles, erasure."""
