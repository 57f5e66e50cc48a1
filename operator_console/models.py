"""Data the operator console owns: demographic attributes of synthetic users, for fairness
analytics only. Stored apart from everything the engine reads, and never read by it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SyntheticDemographic(models.Model):
    """One demographic attribute of a synthetic (seeded) user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    age_band = models.CharField(max_length=16)
    archetype = models.CharField(max_length=32, help_text="What the seed aimed for; for checks.")

    def __str__(self) -> str:
        return f"{self.age_band} ({self.user_id})"
