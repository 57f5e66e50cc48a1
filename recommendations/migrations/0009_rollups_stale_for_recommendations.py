"""Days rolled up before the rollups held the recommendation and feedback figures are marked
stale: analytics count them live, exactly, until the beat task (or ``manage.py
analytics_rebuild``) rolls them up again with every figure."""

from django.db import migrations

BUILT, STALE = 0, -1


def mark_stale(apps, schema_editor):
    DailyRollup = apps.get_model("recommendations", "DailyRollup")
    DailyRollup.objects.exclude(metric="built").delete()
    DailyRollup.objects.filter(metric="built", value=BUILT).update(value=STALE)


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0008_recommendation_created_index")]

    operations = [migrations.RunPython(mark_stale, migrations.RunPython.noop)]
