"""Demo content: the lenalidomide seed monograph with realistic products.

Registration numbers here are invented (HK-9xxxx) and every demo product says
so in its notes, so demo data can never be mistaken for Drug Office records.
"""

from decimal import Decimal
from pathlib import Path

from django.conf import settings

from .importing import decode_text
from .models import Entry
from .services import entry_import_text, entry_update, product_upsert
from .vocabulary import DosageForm, FormularyStatus, LegalClass, ProductKind, Route, SaleRequirement, Unit

SEED_PATH = Path(settings.BASE_DIR) / "monographs" / "seeds" / "lenalidomide.txt"
DEMO_NOTE = "DEMO DATA: registration numbers are invented demonstration values, not Drug Office records."
STRENGTHS_MG = ["2.5", "5", "10", "15", "20", "25"]
DRUG_CLASS = "Immunomodulatory imide drug"
# Filled in only where the entry has no value yet, so a pharmacist's edits stay.
ENTRY_DEFAULTS = {
    "drug_class": DRUG_CLASS,
    "atc_code": "L04AX04",
    "synonyms": "Lenalidomid\nLénalidomide\nCC-5013\n來那度胺",
    "chinese_name": "來那度胺",
    # A thalidomide analogue: teratogenic, supplied under a pregnancy prevention programme,
    # and cytotoxic (handled as a hazardous drug).
    "pregnancy_warning": True,
    "pregnancy_prevention_programme": True,
    "cytotoxic": True,
    "boxed_warning": (
        "Do not use in pregnancy: a thalidomide analogue that can cause severe birth defects. "
        "Supply only under the pregnancy prevention programme."
    ),
}

BRAND_APPEARANCE = {
    "2.5": "blue-green and white capsule marked REV 2.5 mg",
    "5": "white capsule marked REV 5 mg",
    "10": "blue-green and pale yellow capsule marked REV 10 mg",
    "15": "powder blue and white capsule marked REV 15 mg",
    "20": "blue-green and powder blue capsule marked REV 20 mg",
    "25": "white capsule marked REV 25 mg",
}

PRODUCTS = [
    {
        "name": "Revlimid",
        "kind": ProductKind.BRAND,
        "certificate_holder": "Bristol Myers Squibb Pharma (HK) Ltd (demo)",
        "formulary_status": FormularyStatus.SFI_SAFETY_NET,
        "registration_base": 90100,
        "appearance": BRAND_APPEARANCE,
    },
    {
        "name": "Lenalidomide Capsules (Sandoz)",
        "kind": ProductKind.GENERIC,
        "certificate_holder": "Sandoz Hong Kong Ltd (demo)",
        "formulary_status": FormularyStatus.SPECIAL,
        "registration_base": 90200,
        "appearance": {mg: f"hard capsule printed 'L {mg}'" for mg in STRENGTHS_MG},
    },
    {
        "name": "Lenalidomide Capsules (Teva)",
        "kind": ProductKind.GENERIC,
        "certificate_holder": "Teva Pharmaceutical Hong Kong Ltd (demo)",
        "formulary_status": FormularyStatus.SPECIAL,
        "registration_base": 90300,
        "appearance": {mg: f"hard gelatin capsule marked 'T {mg}'" for mg in STRENGTHS_MG},
    },
]


def load_lenalidomide(*, user=None):
    text = decode_text(SEED_PATH.read_bytes())
    entry = Entry.objects.filter(generic_name__iexact="Lenalidomide").first()
    if entry is None or not entry.sections.exists():
        result = entry_import_text(
            generic_name="Lenalidomide",
            text=text,
            user=user,
            reason="Demo data: imported from the lenalidomide seed text",
            drug_class=DRUG_CLASS,
        )
        entry = result.entry
    missing = {name: value for name, value in ENTRY_DEFAULTS.items() if not getattr(entry, name)}
    if missing:
        entry = entry_update(
            entry=entry,
            user=user,
            reason="Demo data: set " + ", ".join(str(Entry._meta.get_field(name).verbose_name) for name in missing),
            **missing,
        )
    for spec in PRODUCTS:
        strengths = [
            {
                "amount": Decimal(mg),
                "unit": Unit.MG,
                "dosage_form": DosageForm.CAPSULE,
                "route": Route.ORAL,
                "appearance": spec["appearance"][mg],
                "pack_size": "21 capsules",
                "registration_number": f"HK-{spec['registration_base'] + i:05d}",
            }
            for i, mg in enumerate(STRENGTHS_MG, start=1)
        ]
        product_upsert(
            entry=entry,
            name=spec["name"],
            certificate_holder=spec["certificate_holder"],
            kind=spec["kind"],
            legal_classification=LegalClass.P1S1S3,
            sale_requirement=SaleRequirement.PRESCRIPTION,
            formulary_status=spec["formulary_status"],
            notes=DEMO_NOTE,
            strengths=strengths,
            user=user,
            reason=f"Demo data: {spec['name']}",
        )
    return entry
