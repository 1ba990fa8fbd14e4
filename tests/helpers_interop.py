"""Shared builders for the API, FHIR and transfer tests: small extra entries,
published or not, made through the services and the workflow as users would."""

from decimal import Decimal

from monographs import workflow, working_copy
from monographs.models import Entry
from monographs.services import entry_import_text, product_upsert

METFORMIN_TEXT = "Metformin lowers blood glucose.\n\nTake it with meals."


def make_entry(name, *, drug_class, status, legal, registration, text=None, amount="500", per=None):
    entry = entry_import_text(
        generic_name=name, text=text or f"{name} is a medicine.", drug_class=drug_class, reason="test data"
    ).entry
    strength = {
        "amount": Decimal(amount),
        "unit": "mg",
        "dosage_form": "oral_solution" if per else "tablet",
        "route": "oral",
        "registration_number": registration,
    }
    if per:
        strength.update(per_amount=Decimal(per), per_unit="mL")
    product_upsert(
        entry=entry,
        name=f"{name} product",
        certificate_holder=f"{name} Holder Ltd",
        kind="generic",
        legal_classification=legal,
        sale_requirement="prescription",
        formulary_status=status,
        strengths=[strength],
        reason="test data",
    )
    return Entry.objects.get(pk=entry.pk)


def publish(entry, editor, reviewer):
    workflow.submit(entry=entry, user=editor, comment="Ready")
    workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=reviewer, comment="Approved")
    return Entry.objects.get(pk=entry.pk)
