"""Backfill of analytics' tallies: every bucket built, set-based (one ``INSERT … SELECT`` per
family of figures over all users, no loop over users), by the same code as the beat task and
``manage.py analytics_rebuild``. Until it runs, or if it is skipped, analytics count every
bucket live (exact, slower)."""

from django.db import migrations


def backfill(apps, schema_editor):
    from operator_console.tallies import tallies_build

    tallies_build(every=True)


class Migration(migrations.Migration):
    dependencies = [
        ("operator_console", "0003_user_tallies"),
        ("accounts", "0007_user_bucket"),
        ("recommendations", "0008_state_bucket"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
