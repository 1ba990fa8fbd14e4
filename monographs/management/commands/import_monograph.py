from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from monographs.importing import MonographTextError, decode_text
from monographs.services import entry_import_text, entry_import_translation

LANGUAGES = ("en", "zh-hant")


class Command(BaseCommand):
    help = (
        "Import a plain-text monograph into a formulary entry (creates it, or updates its sections); "
        "with --language zh-hant, attach a Traditional Chinese text to an existing entry's sections, by order."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="UTF-8 text file, one paragraph per line or separated by blank lines.")
        parser.add_argument("--name", required=True, help="Generic name of the entry, e.g. Lenalidomide.")
        parser.add_argument("--drug-class", default=None, help="Drug class to record on the entry.")
        parser.add_argument("--user", default=None, help="Username to record as the author of the revision.")
        parser.add_argument("--reason", default="", help="Reason for change recorded in the history.")
        parser.add_argument(
            "--language",
            default="en",
            type=str.lower,
            choices=LANGUAGES,
            help="en (default): the English monograph. zh-hant: its Traditional Chinese text, one section "
            "per heading line (e.g. 副作用) or per block between blank lines, in the entry's order "
            "(docs/importing.md).",
        )

    def handle(self, *args, path, name, drug_class, user, reason, language, **options):
        if language == "zh-hant" and drug_class is not None:
            raise CommandError("--drug-class belongs to the English import; the Chinese text changes only sections.")
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            text = decode_text(raw)
        except MonographTextError as exc:
            raise CommandError(f"{path}: {exc}") from None

        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"No user named {user!r}.")
        if language == "zh-hant":
            self._import_chinese(path, name, text, author, reason)
            return
        try:
            result = entry_import_text(
                generic_name=name,
                text=text,
                user=author,
                reason=reason or f"Imported from {Path(path).name}",
                drug_class=drug_class,
            )
        except (ValidationError, MonographTextError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(f"{path}: refused: {'; '.join(messages)}") from None

        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        verb = "Created" if result.created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.entry.generic_name}: {result.paragraphs} paragraphs in {result.sections} sections."
            )
        )

    def _import_chinese(self, path, name, text, author, reason):
        try:
            result = entry_import_translation(
                generic_name=name,
                text=text,
                user=author,
                reason=reason or f"Chinese text imported from {Path(path).name}",
            )
        except (ValidationError, MonographTextError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(f"{path}: refused: {'; '.join(messages)}") from None
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        untranslated = f", {result.untranslated} left untranslated" if result.untranslated else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Chinese text attached to {result.entry.generic_name}: {result.translated} sections{untranslated}."
            )
        )
