"""The index analytics read recommendations of days not rolled up by (built CONCURRENTLY on
PostgreSQL: the table is large)."""

from django.db import migrations, models

from spendsense.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("recommendations", "0007_analytics_backfill")]

    operations = [
        AddIndexConcurrently(
            model_name="recommendation",
            index=models.Index(fields=["created_at"], name="recs_rec_created"),
        ),
    ]
