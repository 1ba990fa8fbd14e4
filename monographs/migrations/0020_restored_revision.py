"""Which revision a restore brought back (django-reversion revision meta), for the four-eyes rule."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monographs', '0019_background_work'),
        ('reversion', '0002_add_index_on_version_for_content_type_and_db'),
    ]

    operations = [
        migrations.CreateModel(
            name='RestoredRevision',
            fields=[
                ('revision', models.OneToOneField(help_text='The revision the restore made.', on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='restored', serialize=False, to='reversion.revision')),
                ('restored_from', models.ForeignKey(help_text='The earlier revision whose content it brought back.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='reversion.revision')),
            ],
            options={
                'verbose_name': 'restored revision',
                'verbose_name_plural': 'restored revisions',
            },
        ),
    ]
