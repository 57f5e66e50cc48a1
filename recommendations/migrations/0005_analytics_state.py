# A recommendation's digest (a recompute keeps identical pending rows), and the tables
# analytics aggregate: one current-state row per user and daily rollups. Only new tables and
# a column with a constant default (no rewrite on PostgreSQL); the indexes on existing large
# tables come next, built without blocking writes (0006).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_email_verification"),
        ("recommendations", "0004_document_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="recommendation",
            name="digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("metric", models.CharField(max_length=16)),
                ("key", models.CharField(blank=True, default="", max_length=40)),
                ("value", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("metric", "day", "key"), name="recs_rollup_metric_day")
                ],
                "indexes": [models.Index(fields=["day"], name="recs_rollup_day")],
            },
        ),
        migrations.CreateModel(
            name="UserInsightState",
            fields=[
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="insight_state", serialize=False, to=settings.AUTH_USER_MODEL)),
                ("persona_30d", models.CharField(blank=True, max_length=32, null=True)),
                ("persona_180d", models.CharField(blank=True, max_length=32, null=True)),
                ("has_data", models.BooleanField(default=False)),
                ("detected_count", models.PositiveSmallIntegerField(default=0)),
                ("detects_subscriptions", models.BooleanField(default=False)),
                ("detects_savings", models.BooleanField(default=False)),
                ("detects_credit", models.BooleanField(default=False)),
                ("detects_income", models.BooleanField(default=False)),
                ("has_offer", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField()),
            ],
        ),
    ]
