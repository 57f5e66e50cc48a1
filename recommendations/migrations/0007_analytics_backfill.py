"""Backfill of analytics' derived rows: every user's current state and the rollups of every
closed day, set-based (INSERT … SELECT, no loop over users) by the same code as
``manage.py analytics_rebuild``."""

from django.db import migrations


def backfill(apps, schema_editor):
    from recommendations.state import analytics_rebuild

    # Not announced: this may run before operator_console 0003 creates the tables that hear
    # it (neither migration depends on the other), and operator_console 0004 counts every
    # user anew after both.
    analytics_rebuild(announce=False)


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0006_analytics_indexes"),
        ("uploads", "0003_transaction_user_index"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
