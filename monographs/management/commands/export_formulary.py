import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monographs.transfer import dump, export_document


class Command(BaseCommand):
    help = (
        "Export every entry's working copy (entry fields, sections, products, strengths) to a JSON file "
        "with a format version and a sha256 checksum, for import_formulary on another installation."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="File to write, or - for standard output.")

    def handle(self, *args, path, **options):
        document = export_document()
        data = dump(document)
        entries = document["payload"]["entries"]
        if path == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        target = Path(path)
        try:
            # Write beside the target and rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        products = sum(len(e["products"]) for e in entries)
        strengths = sum(len(p["strengths"]) for e in entries for p in e["products"])
        sections = sum(len(e["sections"]) for e in entries)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {len(entries)} entries ({sections} sections, {products} products, {strengths} strengths) "
                f"to {path}; sha256 {document['checksum']['value']}."
            )
        )
