from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0005_capture_time_changes'),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="skipped",
            field=models.JSONField(
                blank=True, default=dict, help_text='Those files by lower-case extension: {".txt": 3, ".psd": 1}.'
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="skipped_count",
            field=models.PositiveIntegerField(
                default=0, help_text="Files a folder import found and does not import (system litter not counted)."
            ),
        ),
    ]
