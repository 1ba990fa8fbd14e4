"""Publish scheduled editions and carry out planned withdrawals whose time has come.

Run every minute by a timer (see docs/operations.md: a systemd timer or a cron line).
Safe to run twice at once: each entry is handled under its state lock.
"""

from django.core.management.base import BaseCommand

from monographs import workflow


class Command(BaseCommand):
    help = "Publish scheduled editions and carry out planned withdrawals that are due (run every minute)."

    def handle(self, *args, **options):
        events = workflow.publish_due()
        for event in events:
            self.stdout.write(f"{event.entry}: {event.get_action_display()} (edition {event.edition.number})")
        if options["verbosity"] > 1 or events:
            self.stdout.write(f"{len(events)} scheduled change(s) carried out.")
