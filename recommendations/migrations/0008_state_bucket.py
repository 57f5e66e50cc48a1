# The index analytics' tallies read the current state of a few user buckets through
# (operator_console.tallies): on PostgreSQL built CONCURRENTLY (recompute keeps writing
# meanwhile), hence outside a transaction.

from django.conf import settings
from django.db import migrations, models

import spendsense.buckets
from spendsense.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("recommendations", "0007_analytics_backfill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="userinsightstate",
            index=models.Index(
                spendsense.buckets.UserBucket("user_id"), name="recs_state_bucket"
            ),
        ),
    ]
