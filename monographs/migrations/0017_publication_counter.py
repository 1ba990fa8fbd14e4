"""The publication counter (one row) and when each live edition went live.

The counter starts at the number of publications and withdrawals already in the audit log,
changed when the last of them happened; each live entry's `live_since` is the time of the
audit event that published its live edition (approval or scheduled go-live). Plain
historical models only: no live code is imported.
"""

from django.db import migrations, models


PUBLISHING = ("approved", "went_live")


def forward(apps, schema_editor):
    AuditEvent = apps.get_model("monographs", "AuditEvent")
    EntryState = apps.get_model("monographs", "EntryState")
    PublicationCounter = apps.get_model("monographs", "PublicationCounter")
    changes = AuditEvent.objects.filter(action__in=[*PUBLISHING, "withdrawn"])
    last = changes.order_by("-created_at").values_list("created_at", flat=True).first()
    PublicationCounter.objects.create(id=1, value=changes.count(), changed_at=last)
    for state in EntryState.objects.filter(live_edition__isnull=False):
        went_live = (
            AuditEvent.objects.filter(edition_id=state.live_edition_id, action__in=PUBLISHING)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        state.live_since = went_live
        state.save(update_fields=["live_since"])


class Migration(migrations.Migration):

    dependencies = [
        ('monographs', '0016_edition_name_prefix_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='entrystate',
            name='live_since',
            field=models.DateTimeField(blank=True, help_text="When the live edition went live (at approval, or when a scheduled edition was published): what API sync clients, feeds and FHIR's lastUpdated count as its publication.", null=True, verbose_name='live since'),
        ),
        migrations.CreateModel(
            name='PublicationCounter',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ('value', models.BigIntegerField(default=0, help_text='How many times the public formulary has changed.', verbose_name='publications')),
                ('changed_at', models.DateTimeField(blank=True, help_text='When the public formulary last changed.', null=True, verbose_name='last changed')),
            ],
            options={
                'verbose_name': 'publication counter',
                'verbose_name_plural': 'publication counter',
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='publication_counter_single_row')],
            },
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
