"""Mail the digest of what changed in a period to staff, once per period.

Without --since: the last complete calendar quarter (Hong Kong time), so a timer can run it
on the first days of each quarter (docs/operations.md); a period already sent is not sent
again, and the command says so and exits 0.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from monographs import digest, periods


class Command(BaseCommand):
    help = (
        "Queue the email of the changes of a period (default: the last complete quarter) to FORMULARY_DIGEST_RECIPIENTS "
        "and the members of FORMULARY_DIGEST_GROUPS, as plain text and HTML; never twice for one period."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="First day, YYYY-MM-DD (Hong Kong time).")
        parser.add_argument("--until", help="Last day, included, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the digest (default: %(default)s).",
        )

    def handle(self, *args, since=None, until=None, language, **options):
        with translation.override(language):
            period = self._period(since, until)
            self.stdout.write(f"Digest for {period.first} to {period.last} ({language}).")
            try:
                mail = digest.send(period)
            except digest.AlreadySent as already:
                self.stdout.write(f"Already sent: {already}. Nothing sent.")
                return
            except digest.AlreadyQueued as queued:
                self.stdout.write(f"Already queued: {queued} Nothing more queued.")
                return
            except digest.NoRecipients as error:
                raise CommandError(str(error)) from None
        # The worker sends it; the period is recorded as sent only once the mail server accepts it.
        count = len(mail.bcc)
        self.stdout.write(self.style.SUCCESS(f"Queued for {count} address(es): {mail.digest['summary']}."))

    def _period(self, since, until):
        if since is None and until is None:
            return periods.last_complete_quarter()
        if since is None:
            raise CommandError("--until needs --since.")
        try:
            first = periods.parse_date(since, "--since")
            last = periods.parse_date(until, "--until") if until is not None else timezone.localdate()
            return periods.make_period(first, last)
        except periods.PeriodError as error:
            raise CommandError(str(error)) from None
