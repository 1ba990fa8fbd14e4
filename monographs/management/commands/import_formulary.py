from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monographs.transfer import TransferError, import_entries, load_document


class Command(BaseCommand):
    help = (
        "Import entries from an export_formulary file: creates or updates working copies as drafts awaiting "
        "review (never publishes), in one transaction; a damaged or invalid file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A file written by export_formulary.")
        parser.add_argument("--user", default=None, help="Username to record as the author of the revisions.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, then roll everything back.")

    def handle(self, *args, path, user, dry_run, **options):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"No user named {user!r}.")
        try:
            entries = load_document(raw)
            report = import_entries(entries, source_name=Path(path).name, user=author, dry_run=dry_run)
        except TransferError as exc:
            raise CommandError(f"{path}: refused, nothing imported: {exc}") from None

        for label, names in (("Created", report.created), ("Updated", report.updated), ("Unchanged", report.skipped)):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        summary = (
            f"{len(report.created)} created, {len(report.updated)} updated, {len(report.skipped)} unchanged (skipped)"
        )
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run, nothing saved: {summary}."))
        else:
            note = " Changed entries are drafts awaiting review." if report.created or report.updated else ""
            self.stdout.write(self.style.SUCCESS(f"Imported {path}: {summary}.{note}"))
