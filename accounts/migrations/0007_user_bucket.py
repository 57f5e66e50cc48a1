# The index analytics' tallies read the consenting users of a few buckets through
# (operator_console.tallies): on PostgreSQL built CONCURRENTLY (sign-ups and consent changes
# keep writing meanwhile), hence outside a transaction.

from django.db import migrations, models

import spendsense.buckets
from spendsense.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0006_email_verification"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(spendsense.buckets.UserBucket("id"), name="accounts_user_bucket"),
        ),
    ]
