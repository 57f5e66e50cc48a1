# Transactions lose the index Django gives their user foreign key: both of the table's other
# indexes start with the user, and every insert of a 70,000-row upload updated a third.
#
# Django's AlterField would drop the foreign key, drop the index and add the key back, which
# on a large table validates every row under a lock. Only the index goes here, and on
# PostgreSQL without blocking writes (CONCURRENTLY, outside a transaction).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEX = "uploads_transaction_user_id_57b7b4aa"


def drop_index(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'DROP INDEX{concurrently} IF EXISTS "{INDEX}"')


def create_index(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX{concurrently} IF NOT EXISTS "{INDEX}" ON "uploads_transaction" ("user_id")'
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("uploads", "0002_plaid_contract"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transaction",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="transactions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index)],
        ),
    ]
