"""Health check: exit 1 when a scheduled publication or withdrawal is overdue.

More than five minutes late means the timer that runs `publish_scheduled` is not
running. Monitoring (or a systemd `ExecStartPost`/cron mail) runs this command.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monographs import working_copy


class Command(BaseCommand):
    help = "Exit non-zero when a scheduled publication or withdrawal is more than five minutes overdue."

    def handle(self, *args, **options):
        overdue = working_copy.overdue_schedules()
        if not overdue:
            self.stdout.write("Schedule OK: nothing overdue.")
            return
        for state in overdue:
            when = state.scheduled_edition.effective_at if state.scheduled_edition else state.withdraw_at
            late = timezone.now() - when
            self.stderr.write(f"{state.entry}: due {timezone.localtime(when):%Y-%m-%d %H:%M}, {late} late")
        raise CommandError(
            f"{len(overdue)} scheduled change(s) overdue: is the publish_scheduled timer running?", returncode=1
        )
