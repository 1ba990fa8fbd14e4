"""Print the workflow's transitions table, or write it into docs/workflow.md (--write)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monographs import transitions

DOC = Path(settings.BASE_DIR) / "docs" / "workflow.md"


def document_with_table(text):
    """`text` (docs/workflow.md) with the table between its markers replaced by the current one."""
    try:
        head, rest = text.split(transitions.DOC_BEGIN, 1)
        _old, tail = rest.split(transitions.DOC_END, 1)
    except ValueError:
        raise CommandError(f"{DOC} has no transitions-table markers") from None
    return f"{head}{transitions.DOC_BEGIN}\n{transitions.diagram()}{transitions.DOC_END}{tail}"


class Command(BaseCommand):
    help = "Print the workflow's state × action table (monographs/transitions.py); --write puts it in docs/workflow.md."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Rewrite the table in docs/workflow.md.")

    def handle(self, *args, write=False, **options):
        if not write:
            self.stdout.write(transitions.diagram())
            return
        DOC.write_text(document_with_table(DOC.read_text(encoding="utf-8")), encoding="utf-8")
        self.stdout.write(f"Wrote the transitions table to {DOC}.")
