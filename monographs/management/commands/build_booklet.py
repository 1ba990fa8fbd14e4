import os
import resource
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.text import slugify

from monographs import booklet, selectors


class Command(BaseCommand):
    help = (
        "Build the printable booklet (PDF) of the published formulary, or of one drug class, in English or "
        "Chinese. Entries are laid out in parts of --part-size and merged, so memory stays bounded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--class", dest="drug_class", help="Only this drug class (its name or its slug).")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="Interface language of the booklet (default %(default)s).",
        )
        parser.add_argument("--out", help="File to write (default formulary-booklet[-CLASS]-LANGUAGE.pdf here).")
        parser.add_argument(
            "--part-size",
            type=int,
            default=booklet.part_size(),
            help="Entries laid out per part (default %(default)s); smaller parts use less memory.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=booklet.workers(),
            help="Worker processes laying out parts at once (default %(default)s).",
        )

    def handle(self, *args, drug_class, language, out, part_size, workers, **options):
        if part_size < 1 or workers < 1:
            raise CommandError("--part-size and --workers must be at least 1.")
        if drug_class is not None:
            drug_class = self._class_named(drug_class)
        target = Path(out or booklet.file_name(slugify(drug_class or ""), language))
        stamp = selectors.formulary_last_changed()
        count = selectors.live_edition_count(drug_class)
        if not count:
            raise CommandError("No published entry to put in a booklet.")
        started = time.monotonic()
        self.stderr.write(
            f"Building the booklet of {count} entries ({language}) in parts of {part_size}, {workers} workers."
        )
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror}.") from None
        os.close(fd)
        try:
            with translation.override(language):
                pages, parts = booklet.write_booklet(
                    booklet.Booklet(
                        drug_class=drug_class or "",
                        stamp=stamp,
                        count=count,
                        drug_class_zh=selectors.live_class_chinese_name(drug_class) if drug_class else "",
                    ),
                    selectors.live_editions_in_chunks(drug_class=drug_class, chunk_size=part_size),
                    tmp,
                    worker_count=workers,
                    progress=self.stderr.write,
                )
            # Written beside the target and renamed, so a reader never sees half a booklet.
            os.replace(tmp, target)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror}.") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        # The largest of this process and of its (finished) workers.
        peak_mb = (
            max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {target}: {count} entries, {pages} entry pages in {parts} parts, "
                f"{time.monotonic() - started:.1f} s, peak memory of one process {peak_mb:.0f} MB."
            )
        )

    def _class_named(self, wanted):
        for name, _count in selectors.live_drug_classes():
            if wanted.casefold() in (name.casefold(), slugify(name, allow_unicode=True)):
                return name
        raise CommandError(f"No published entry in a drug class named {wanted!r}.")
