# The digest of the bytes validation accepted, on each upload (the task skips validating a
# stored file that still has it). A column with a database default: PostgreSQL adds it
# without rewriting the table, and rows written by COPY without it (bench_scale) get ''.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('uploads', '0003_transaction_user_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='dataupload',
            name='validated_sha256',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
    ]
