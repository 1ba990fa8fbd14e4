import time

from django.core.management.base import BaseCommand

from monographs import fragments, selectors


class Command(BaseCommand):
    help = (
        "Render and store the page parts of every live edition (entry page, both-languages page, list row, "
        "search result; every language) missing for the current templates: run after a deployment that "
        "changed templates, translations or rendering code. --prune deletes parts of older templates."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=fragments.CHUNK_SIZE,
            help="Editions read and rendered at a time (default %(default)s).",
        )
        parser.add_argument(
            "--prune", action="store_true", help="Also delete stored parts made with superseded templates."
        )

    def handle(self, *args, chunk_size, prune, **options):
        ids = selectors.live_edition_ids()
        started = time.monotonic()
        self.stdout.write(
            f"{len(ids)} live editions; digests: "
            + ", ".join(f"{part}={fragments.digest(part)}" for part in fragments.Part)
        )
        total = 0
        for done, made in fragments.fill(ids, chunk_size=max(chunk_size, 1)):
            total += made
            self.stdout.write(f"{done}/{len(ids)} editions, {made} parts rendered ({time.monotonic() - started:.1f} s)")
        self.stdout.write(self.style.SUCCESS(f"Rendered {total} parts of {len(ids)} live editions."))
        if prune:
            deleted, _per_model = fragments.superseded().delete()
            self.stdout.write(f"Deleted {deleted} parts of superseded templates.")
