"""Fixed vocabularies of the formulary.

Kept apart from the models so the importer, the admin filters and the public
pages share one list, and a new choice never needs a schema change elsewhere.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SectionKind(models.TextChoices):
    # Order here is the usual reading order of a published monograph.
    OVERVIEW = "overview", _("Overview")
    DRUG_CLASS = "drug_class", _("Drug class")
    AVAILABILITY = "availability", _("Availability in Hong Kong")
    USES = "uses", _("Uses and indications")
    DOSE = "dose", _("Dose and administration")
    MECHANISM = "mechanism", _("How it works")
    SIDE_EFFECTS = "side_effects", _("Side effects")
    SEEK_HELP = "seek_help", _("When to seek medical help")
    CONTRAINDICATIONS = "contraindications", _("Contraindications")
    INTERACTIONS = "interactions", _("Interactions")
    COUNSELLING = "counselling", _("Counselling points")
    STORAGE = "storage", _("Storage and duration")
    DISCLAIMER = "disclaimer", _("Disclaimer")
    OTHER = "other", _("Other")


# The order in which the public entry page shows sections, for a reader at the dispensary counter:
# how to give it first (as the BNF puts indications and dose first), then what to warn about
# (who must not have it, what it does, what it must not be given with, when to get help), then
# what to tell the patient; the descriptive sections after them. Sections of one kind, and kinds
# not listed, keep the author's order (`Section.position`) after the listed ones.
COUNTER_ORDER = [
    SectionKind.DOSE,
    SectionKind.CONTRAINDICATIONS,
    SectionKind.SIDE_EFFECTS,
    SectionKind.INTERACTIONS,
    SectionKind.SEEK_HELP,
    SectionKind.COUNSELLING,
    SectionKind.USES,
    SectionKind.STORAGE,
]
# The kinds the entry page's jump bar groups as "Warnings" (its first such section is the target).
WARNING_KINDS = [SectionKind.CONTRAINDICATIONS, SectionKind.SIDE_EFFECTS, SectionKind.SEEK_HELP]


class ProductKind(models.TextChoices):
    BRAND = "brand", _("Brand")
    GENERIC = "generic", _("Generic")


class LegalClass(models.TextChoices):
    # Wording as the Drug Office of the Department of Health writes it.
    P1S1S3 = "p1s1s3", _("Part 1, Schedule 1 & Schedule 3 Poison")
    P1S1 = "p1s1", _("Part 1, Schedule 1 Poison")
    P1S3 = "p1s3", _("Part 1, Schedule 3 Poison")
    P1 = "p1", _("Part 1 Poison")
    P2 = "p2", _("Part 2 Poison")
    ANTIBIOTIC = "antibiotic", _("Antibiotic")
    DANGEROUS_DRUG = "dangerous_drug", _("Dangerous Drug")
    NOT_POISON = "not_poison", _("Non-poison")


class SaleRequirement(models.TextChoices):
    PRESCRIPTION = "prescription", _("Prescription only")
    PHARMACY = "pharmacy", _("Pharmacy only (sale under supervision of a pharmacist)")
    OTC = "otc", _("Over the counter")


class FormularyStatus(models.TextChoices):
    # Hospital Authority Drug Formulary categories.
    GENERAL = "general", _("General drug")
    SPECIAL = "special", _("Special drug")
    SFI_SAFETY_NET = "sfi_safety_net", _("Self-financed item with safety net")
    SFI = "sfi", _("Self-financed item without safety net")
    NON_FORMULARY = "non_formulary", _("Non-formulary")


class Unit(models.TextChoices):
    MG = "mg", "mg"
    G = "g", "g"
    MCG = "mcg", "microgram"
    NG = "ng", "nanogram"
    ML = "mL", "mL"
    L = "L", "L"
    IU = "IU", _("international units")
    UNIT = "unit", _("units")
    MMOL = "mmol", "mmol"
    PERCENT = "%", "%"
    DOSE = "dose", _("dose")


class DosageForm(models.TextChoices):
    CAPSULE = "capsule", _("Capsule")
    TABLET = "tablet", _("Tablet")
    FILM_COATED_TABLET = "film_coated_tablet", _("Film-coated tablet")
    MODIFIED_RELEASE_TABLET = "mr_tablet", _("Modified-release tablet")
    INJECTION = "injection", _("Injection")
    INFUSION = "infusion", _("Concentrate for infusion")
    ORAL_SOLUTION = "oral_solution", _("Oral solution")
    ORAL_SUSPENSION = "oral_suspension", _("Oral suspension")
    SYRUP = "syrup", _("Syrup")
    CREAM = "cream", _("Cream")
    OINTMENT = "ointment", _("Ointment")
    EYE_DROPS = "eye_drops", _("Eye drops")
    INHALER = "inhaler", _("Inhaler")
    PATCH = "patch", _("Transdermal patch")
    SUPPOSITORY = "suppository", _("Suppository")


class Route(models.TextChoices):
    ORAL = "oral", _("Oral")
    IV = "iv", _("Intravenous")
    IM = "im", _("Intramuscular")
    SC = "sc", _("Subcutaneous")
    TOPICAL = "topical", _("Topical")
    OPHTHALMIC = "ophthalmic", _("Ophthalmic")
    INHALATION = "inhalation", _("Inhalation")
    TRANSDERMAL = "transdermal", _("Transdermal")
    RECTAL = "rectal", _("Rectal")


class SafetyFlag(models.TextChoices):
    """What staff must warn about, shown as badges in this order on pages, lists and results.

    The first four are fields of the entry (set by pharmacists, reviewed with the rest);
    DANGEROUS_DRUG follows from a product's legal classification and is never set by hand.
    """

    PREGNANCY = "pregnancy", _("Harmful in pregnancy")
    PREGNANCY_PREVENTION = "pregnancy_prevention", _("Pregnancy prevention programme")
    HIGH_ALERT = "high_alert", _("High-alert medication")
    CYTOTOXIC = "cytotoxic", _("Cytotoxic: handle as hazardous")
    DANGEROUS_DRUG = "dangerous_drug", _("Dangerous drug")


class PackUnit(models.TextChoices):
    """What a pack is counted in ("21 capsules": 21, capsule). The Chinese labels are the
    measure words a Hong Kong dispensing label uses (21 粒, 5 支, 10 包); `packs.py`
    reads them from the glossary's pack words."""

    CAPSULE = "capsule", _("capsule")
    TABLET = "tablet", _("tablet")
    SACHET = "sachet", _("sachet")
    VIAL = "vial", _("vial")
    AMPOULE = "ampoule", _("ampoule")
    SYRINGE = "syringe", _("pre-filled syringe")
    PEN = "pen", _("pen")
    BOTTLE = "bottle", _("bottle")
    TUBE = "tube", _("tube")
    INHALER = "inhaler", _("inhaler")
    PATCH = "patch", _("patch")
    SUPPOSITORY = "suppository", _("suppository")
    DOSE = "dose", _("dose")
