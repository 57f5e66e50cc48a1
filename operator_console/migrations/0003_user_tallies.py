# Analytics' current-state tallies per user bucket (operator_console.tallies): two new tables,
# and the index fairness reads a few buckets of demographics through, built CONCURRENTLY on
# PostgreSQL (hence outside a transaction).

from django.conf import settings
from django.db import migrations, models

import spendsense.buckets
from spendsense.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("operator_console", "0002_recommendationrevision"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="UserTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bucket", models.SmallIntegerField()),
                ("metric", models.CharField(max_length=32)),
                ("key", models.CharField(blank=True, default="", max_length=120)),
                ("value", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("bucket", "metric", "key"), name="console_tally_bucket_metric_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UserTallyChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("bucket", models.SmallIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["bucket"], name="console_tally_change_bucket")],
            },
        ),
        AddIndexConcurrently(
            model_name="syntheticdemographic",
            index=models.Index(
                spendsense.buckets.UserBucket("user_id"), name="console_demographic_bucket"
            ),
        ),
    ]
