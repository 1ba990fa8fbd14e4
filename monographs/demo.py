"""Demo content: the lenalidomide seed monograph with realistic products.

Registration numbers here are invented (HK-9xxxx) and every demo product says
so in its notes, so demo data can never be mistaken for Drug Office records.

The Traditional Chinese text (seeds/lenalidomide.zh-hant.txt, imported as
`import_monograph --language zh-hant` does) is a demonstration translation, and says so
in its disclaimer section and the entry's internal notes. It leaves the mechanism
section untranslated, so the demo shows one missing translation and the rest current.
`load_demo` asks for it; other callers (the tests' `lenalidomide`) get the English entry
unless they ask (`chinese=True`): any edit of translated English makes its Chinese outdated,
and approving that needs the reviewer's explicit tick. `outdated_translation` (tests only)
then changes the interactions section's English, so its Chinese is outdated.
"""

from decimal import Decimal
from pathlib import Path

from django.conf import settings

from .glossary import term
from .importing import decode_text
from .models import Entry
from .services import (
    drug_class_for,
    entry_import_text,
    entry_import_translation,
    entry_update,
    product_upsert,
    section_update,
)
from .vocabulary import DosageForm, FormularyStatus, LegalClass, ProductKind, Route, SaleRequirement, Unit

SEED_PATH = Path(settings.BASE_DIR) / "monographs" / "seeds" / "lenalidomide.txt"
CHINESE_SEED_PATH = SEED_PATH.with_name("lenalidomide.zh-hant.txt")
DEMO_TRANSLATION_NOTE = (
    "DEMO DATA: the Traditional Chinese text is a demonstration translation, not checked by a pharmacist."
)
CHINESE_DEFAULTS = {
    # Terms from the glossary, so the demo passes the "chinese_terms" check it is shown with.
    "boxed_warning_zh": (
        "懷孕期間不可使用：本藥為沙利度胺類似物，可導致嚴重的先天缺陷。"
        f"只可在{term('pregnancy prevention programme')}下供應。"
    ),
    # The Taiwan name of the same medicine.
    "chinese_synonyms": "雷利竇邁",
    "notes": DEMO_TRANSLATION_NOTE,
}
# Added to the English interactions text after the translation, which is then outdated.
INTERACTIONS_UPDATE = (
    " Dexamethasone, often given with lenalidomide, adds to the risk of blood clots; "
    "patients should ask whether they need a blood thinner."
)
DEMO_NOTE = "DEMO DATA: registration numbers are invented demonstration values, not Drug Office records."
STRENGTHS_MG = ["2.5", "5", "10", "15", "20", "25"]
DRUG_CLASS = "Immunomodulatory imide drug"
DRUG_CLASS_ZH = f"免疫調節{term('imide')}類藥物"
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
        "chinese_name": "瑞復美",
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


def load_lenalidomide(*, user=None, chinese=False, outdated_translation=False):
    text = decode_text(SEED_PATH.read_bytes())
    # The class with its Chinese name (kept if a pharmacist has given it another).
    drug_class_for(DRUG_CLASS, chinese_name=DRUG_CLASS_ZH)
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
    if chinese and not entry.boxed_warning_zh and not entry.sections.exclude(body_zh="").exists():
        entry = Entry.objects.get(pk=load_chinese(entry, user=user, outdated=outdated_translation).pk)
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
            **({"chinese_name": spec["chinese_name"]} if "chinese_name" in spec else {}),
            strengths=strengths,
            user=user,
            reason=f"Demo data: {spec['name']}",
        )
    return entry


def load_chinese(entry, *, user=None, outdated=False):
    """The demo translation, in revisions as people would make them: the Chinese sections
    imported, the Chinese boxed warning and synonyms added, then (`outdated`) the English
    interactions text updated, so its Chinese is outdated. Run only on an entry without Chinese text."""
    entry_import_translation(
        generic_name=entry.generic_name,
        text=decode_text(CHINESE_SEED_PATH.read_bytes()),
        user=user,
        reason=f"Demo data: Chinese text imported from {CHINESE_SEED_PATH.name}",
    )
    missing = {name: value for name, value in CHINESE_DEFAULTS.items() if not getattr(entry, name)}
    entry = entry_update(
        entry=entry, user=user, reason="Demo data: Chinese boxed warning and synonyms (demo translation)", **missing
    )
    interactions = entry.sections.filter(kind="interactions").first()
    if outdated and interactions is not None:
        section_update(
            section=interactions,
            user=user,
            reason="Demo data: dexamethasone and blood clots added (the Chinese text is now outdated)",
            body=interactions.body + INTERACTIONS_UPDATE,
        )
    return entry
