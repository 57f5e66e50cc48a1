# Indexes for analytics and the review queue's filters, on tables that grow with every user:
# on PostgreSQL built CONCURRENTLY (recompute, uploads and reviews keep writing meanwhile),
# hence outside a transaction.

from django.db import migrations, models

from spendsense.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("recommendations", "0005_analytics_state")]

    operations = [
        AddIndexConcurrently(
            model_name="feedback",
            index=models.Index(fields=["created_at"], name="recs_feedback_created"),
        ),
        AddIndexConcurrently(
            model_name="personaassignment",
            index=models.Index(fields=["window", "assigned_at"], name="recs_persona_window_at"),
        ),
        AddIndexConcurrently(
            model_name="recommendation",
            index=models.Index(fields=["persona", "-created_at"], name="recs_rec_persona_created"),
        ),
        AddIndexConcurrently(
            model_name="recommendation",
            index=models.Index(fields=["type", "-created_at"], name="recs_rec_type_created"),
        ),
        AddIndexConcurrently(
            model_name="recommendation",
            index=models.Index(fields=["score"], name="recs_rec_score"),
        ),
        AddIndexConcurrently(
            model_name="recommendation",
            index=models.Index(
                condition=models.Q(("flagged", True)), fields=["-created_at"], name="recs_rec_flagged_created"
            ),
        ),
    ]
