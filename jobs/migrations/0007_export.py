# Export jobs (issue 19): a job kind, its settings, and its entries.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0006_job_skipped'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ExportEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.TextField(help_text='Where the original is, as the file listing shows it.')),
                ('destination', models.TextField(help_text="Relative to the export's folder: planned, then where the file was actually written.")),
                ('action', models.CharField(choices=[('planned', 'Planned'), ('copied', 'Copied'), ('linked', 'Linked'), ('exists', 'Already there'), ('duplicate', 'Duplicate, left out')], default='planned', max_length=16)),
                ('sha256', models.CharField(blank=True, help_text='Of the file as written at the destination.', max_length=64)),
                ('written', models.JSONField(blank=True, default=list, help_text='Metadata written into the copy, as exiftool names it.')),
                ('created', models.JSONField(blank=True, default=list, help_text='Files this entry made: [{path, size, mtime_ns}], for undo.')),
                ('made_folders', models.JSONField(blank=True, default=list, help_text='Folders this entry made, for undo.')),
                ('note', models.TextField(blank=True, help_text='What a person should know, e.g. why a sidecar was written.')),
                ('status', models.CharField(choices=[('pending', 'Waiting'), ('processing', 'Processing'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=16)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('claimed_by', models.CharField(blank=True, max_length=64)),
                ('processed_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
            ],
            options={
                'verbose_name_plural': 'export entries',
                'ordering': ['id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='job',
            name='job_kind_valid',
        ),
        migrations.AddField(
            model_name='job',
            name='destination',
            field=models.TextField(blank=True, help_text='The folder an export writes into.'),
        ),
        migrations.AddField(
            model_name='job',
            name='dry_run',
            field=models.BooleanField(default=False, help_text='An export that only plans, writing nothing.'),
        ),
        migrations.AddField(
            model_name='job',
            name='link',
            field=models.BooleanField(default=False, help_text='Hard-link files an export needs to write nothing into.'),
        ),
        migrations.AddField(
            model_name='job',
            name='source_job_ids',
            field=models.JSONField(blank=True, default=list, help_text='The jobs an export takes its files from; empty for all of them.'),
        ),
        migrations.AddField(
            model_name='job',
            name='template',
            field=models.CharField(blank=True, help_text='Where each exported file goes (docs/export.md).', max_length=500),
        ),
        migrations.AddField(
            model_name='job',
            name='undone_at',
            field=models.DateTimeField(blank=True, help_text="When an export's files were removed again.", null=True),
        ),
        migrations.AddField(
            model_name='job',
            name='write_metadata',
            field=models.BooleanField(default=True, help_text='Write the capture time into exported copies.'),
        ),
        migrations.AlterField(
            model_name='job',
            name='kind',
            field=models.CharField(choices=[('upload', 'Upload'), ('path', 'Server folder'), ('export', 'Export')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='job',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['upload', 'path', 'export'])), name='job_kind_valid'),
        ),
        migrations.AddField(
            model_name='exportentry',
            name='companion_of',
            field=models.ForeignKey(blank=True, help_text='The entry whose name this one shares (the picture of a Live Photo or RAW+JPEG pair).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.exportentry'),
        ),
        migrations.AddField(
            model_name='exportentry',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, help_text='The file exported instead.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.file'),
        ),
        migrations.AddField(
            model_name='exportentry',
            name='file',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='jobs.file'),
        ),
        migrations.AddField(
            model_name='exportentry',
            name='job',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='export_entries', to='jobs.job'),
        ),
        migrations.AddIndex(
            model_name='exportentry',
            index=models.Index(fields=['job', 'status'], name='jobs_export_job_id_4327bc_idx'),
        ),
        migrations.AddConstraint(
            model_name='exportentry',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'processing', 'done', 'failed'])), name='export_entry_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='exportentry',
            constraint=models.CheckConstraint(condition=models.Q(('action__in', ['planned', 'copied', 'linked', 'exists', 'duplicate'])), name='export_entry_action_valid'),
        ),
    ]
