"""Synthetic formulary content at Hong Kong hospital scale, for benchmarks.

`generate()` fills the database with entries that look like a Hospital
Authority formulary: plausible generic names with synonyms and Chinese names,
about eleven monograph sections each (some bullet lists, some Chinese), brand
and generic products with registered strengths, years of edit history as
django-reversion revisions, and a live published edition with its audit trail.

Everything is written with `bulk_create` in batches, so 5,000 entries take a
few minutes. History rows are built the way django-reversion builds them (one
Revision per save, holding a Version of the entry and every section, product
and strength, serialised with Django's "json" serialiser), so the admin history,
compare, restore and the workflow work on generated entries as on real ones.

Every generated entry and product says "SYNTHETIC DATA" in its notes, and the
public disclaimer says so too: none of this is medical information.
"""

import datetime
import itertools
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.text import slugify
from reversion.models import Revision, Version
from reversion.revisions import _get_content_type, _get_options

from .models import AuditEvent, Edition, Entry, EntryState, Product, Section, State, Strength
from .snapshots import ENTRY_FIELDS, PRODUCT_FIELDS, SECTION_FIELDS, STRENGTH_FIELDS, _plain, listing_fields
from .vocabulary import (
    DosageForm,
    FormularyStatus,
    LegalClass,
    ProductKind,
    Route,
    SaleRequirement,
    SectionKind,
    Unit,
)

SYNTHETIC_NOTE = "SYNTHETIC DATA generated for benchmarks by generate_formulary; not a real medicine."
# The demo data uses HK-90101..HK-90306; generated numbers never enter this block.
RESERVED_REGISTRATION_BLOCK = range(90000, 90400)
REGISTRATION_NUMBER_LIMIT = 100_000

Action = AuditEvent.Action

# --- Names ------------------------------------------------------------------------------------

PREFIXES = (
    "ab ad al am an ar at ax bel ben bi bra ca cel cer da del dor du el em en er es fa fel flu ga gel ib il in "
    "ir ka la le li lo ma me mi mo na ne ni no ob ol or pa pe pi ra re ri ro sa se so ta te ti tra va ve vi vo "
    "za ze zo"
).split()
MIDDLES = ["", *"ba ci da fe gi la li lu ma mo na ni pa ra re ri ro sa ta ti tu va xi zi".split()]
PREFIX_ZH = "阿貝卡達伊法加哈克拉馬納奧帕奎薩塔烏維扎諾羅米尼特西索倫"

# Dosage-form presets: (form, route, unit, per_amount, per_unit, pack size, appearance pattern)
TAB = (DosageForm.TABLET, Route.ORAL, Unit.MG, None, "", "28 tablets", "{colour} round tablet marked '{code} {amount}'")
FCT = (
    DosageForm.FILM_COATED_TABLET,
    Route.ORAL,
    Unit.MG,
    None,
    "",
    "30 tablets",
    "{colour} oval film-coated tablet debossed '{code}' on one side",
)
MRT = (
    DosageForm.MODIFIED_RELEASE_TABLET,
    Route.ORAL,
    Unit.MG,
    None,
    "",
    "30 tablets",
    "{colour} modified-release tablet marked '{code} {amount}'",
)
CAP = (
    DosageForm.CAPSULE,
    Route.ORAL,
    Unit.MG,
    None,
    "",
    "28 capsules",
    "{colour} hard capsule printed '{code} {amount}'",
)
INJ = (
    DosageForm.INJECTION,
    Route.SC,
    Unit.MG,
    Decimal("1"),
    Unit.ML,
    "1 pre-filled syringe",
    "clear, colourless solution",
)
INF = (
    DosageForm.INFUSION,
    Route.IV,
    Unit.MG,
    Decimal("10"),
    Unit.ML,
    "1 vial",
    "clear, colourless to pale yellow concentrate",
)
SUSP = (
    DosageForm.ORAL_SUSPENSION,
    Route.ORAL,
    Unit.MG,
    Decimal("5"),
    Unit.ML,
    "100 mL bottle",
    "white to off-white suspension",
)
CREAM = (DosageForm.CREAM, Route.TOPICAL, Unit.PERCENT, None, "", "30 g tube", "white, smooth cream")
INH = (
    DosageForm.INHALER,
    Route.INHALATION,
    Unit.MCG,
    Decimal("1"),
    Unit.DOSE,
    "200 doses",
    "pressurised metered-dose inhaler",
)
EYE = (DosageForm.EYE_DROPS, Route.OPHTHALMIC, Unit.PERCENT, None, "", "5 mL bottle", "clear, sterile eye drops")
IM_INJ = (DosageForm.INJECTION, Route.IM, Unit.MG, None, "", "10 vials", "white powder for solution for injection")


@dataclass(frozen=True)
class DrugClass:
    suffix: str
    zh: str
    name: str
    atc: str
    forms: tuple
    amounts: tuple
    legal: str
    uses: tuple
    mechanism: str
    sale: str = SaleRequirement.PRESCRIPTION


CLASSES = [
    DrugClass(
        "mab",
        "單抗",
        "monoclonal antibody",
        "L01FX",
        (INF, INJ),
        ("20", "40", "100", "150", "200", "400"),
        LegalClass.P1S1S3,
        (
            "rheumatoid arthritis",
            "psoriasis",
            "Crohn's disease",
            "non-small cell lung cancer",
            "HER2-positive breast cancer",
        ),
        "It binds a specific protein on the surface of immune or tumour cells and blocks the signal that drives inflammation or cell growth.",
    ),
    DrugClass(
        "tinib",
        "替尼",
        "tyrosine kinase inhibitor",
        "L01EX",
        (FCT, CAP),
        ("25", "50", "100", "150", "200", "250", "400"),
        LegalClass.P1S1S3,
        (
            "chronic myeloid leukaemia",
            "non-small cell lung cancer",
            "renal cell carcinoma",
            "gastrointestinal stromal tumour",
        ),
        "It blocks the kinase enzymes that tumour cells use to signal growth, so the cells stop dividing and die.",
    ),
    DrugClass(
        "pril",
        "普利",
        "angiotensin-converting enzyme (ACE) inhibitor",
        "C09AA",
        (TAB,),
        ("1.25", "2.5", "5", "10", "20", "40"),
        LegalClass.P1S1S3,
        ("hypertension", "heart failure", "prevention after myocardial infarction", "diabetic nephropathy"),
        "It stops the body making angiotensin II, which relaxes blood vessels and lowers blood pressure.",
    ),
    DrugClass(
        "olol",
        "洛爾",
        "beta-adrenoceptor blocker",
        "C07AB",
        (TAB, MRT),
        ("1.25", "2.5", "5", "10", "25", "50", "100"),
        LegalClass.P1S1S3,
        ("hypertension", "angina", "atrial fibrillation", "heart failure", "migraine prophylaxis"),
        "It blocks beta receptors in the heart, slowing the heart rate and reducing the force of contraction.",
    ),
    DrugClass(
        "statin",
        "他汀",
        "HMG-CoA reductase inhibitor (statin)",
        "C10AA",
        (FCT,),
        ("5", "10", "20", "40", "80"),
        LegalClass.P1S1S3,
        ("hypercholesterolaemia", "prevention of cardiovascular events", "mixed dyslipidaemia"),
        "It blocks HMG-CoA reductase, the enzyme the liver uses to make cholesterol, and lowers LDL cholesterol.",
    ),
    DrugClass(
        "prazole",
        "拉唑",
        "proton pump inhibitor",
        "A02BC",
        (CAP, MRT),
        ("10", "15", "20", "30", "40"),
        LegalClass.P1S1S3,
        (
            "gastro-oesophageal reflux disease",
            "peptic ulcer",
            "Helicobacter pylori eradication",
            "NSAID-associated ulcer prevention",
        ),
        "It blocks the proton pump in the stomach lining and so reduces the amount of acid the stomach makes.",
    ),
    DrugClass(
        "conazole",
        "康唑",
        "triazole antifungal",
        "J02AC",
        (CAP, SUSP, INF),
        ("40", "50", "100", "150", "200"),
        LegalClass.P1S1S3,
        ("invasive aspergillosis", "oesophageal candidiasis", "cryptococcal meningitis", "antifungal prophylaxis"),
        "It blocks the fungal enzyme that makes ergosterol, an essential part of the fungal cell membrane.",
    ),
    DrugClass(
        "sartan",
        "沙坦",
        "angiotensin II receptor blocker",
        "C09CA",
        (TAB, FCT),
        ("20", "40", "80", "150", "160", "300"),
        LegalClass.P1S1S3,
        ("hypertension", "heart failure", "diabetic nephropathy"),
        "It blocks the AT1 receptor for angiotensin II, relaxing blood vessels and lowering blood pressure.",
    ),
    DrugClass(
        "cillin",
        "西林",
        "penicillin antibiotic",
        "J01CA",
        (CAP, SUSP, IM_INJ),
        ("125", "250", "500", "1000"),
        LegalClass.ANTIBIOTIC,
        ("community-acquired pneumonia", "urinary tract infection", "otitis media", "skin and soft-tissue infection"),
        "It stops bacteria building their cell wall, so they burst and die.",
    ),
    DrugClass(
        "floxacin",
        "沙星",
        "fluoroquinolone antibiotic",
        "J01MA",
        (FCT, INF, EYE),
        ("0.3", "250", "400", "500", "750"),
        LegalClass.ANTIBIOTIC,
        ("complicated urinary tract infection", "hospital-acquired pneumonia", "bacterial conjunctivitis"),
        "It blocks bacterial DNA gyrase and topoisomerase IV, so bacteria cannot copy their DNA.",
    ),
    DrugClass(
        "vir",
        "韋",
        "antiviral",
        "J05AX",
        (FCT, TAB),
        ("25", "50", "100", "150", "300", "400"),
        LegalClass.P1S1S3,
        ("chronic hepatitis B", "chronic hepatitis C", "HIV-1 infection", "influenza"),
        "It blocks a viral enzyme the virus needs to copy itself, lowering the amount of virus in the body.",
    ),
    DrugClass(
        "dipine",
        "地平",
        "dihydropyridine calcium-channel blocker",
        "C08CA",
        (TAB, MRT),
        ("2.5", "5", "10", "20", "30", "60"),
        LegalClass.P1S1S3,
        ("hypertension", "chronic stable angina", "Raynaud's phenomenon"),
        "It blocks calcium channels in the muscle of blood vessel walls, which relaxes the vessels.",
    ),
    DrugClass(
        "gliptin",
        "格列汀",
        "dipeptidyl peptidase-4 (DPP-4) inhibitor",
        "A10BH",
        (FCT,),
        ("2.5", "5", "25", "50", "100"),
        LegalClass.P1S1S3,
        ("type 2 diabetes mellitus",),
        "It slows the breakdown of incretin hormones, which raise insulin release after meals.",
    ),
    DrugClass(
        "gliflozin",
        "格列淨",
        "sodium-glucose co-transporter 2 (SGLT2) inhibitor",
        "A10BK",
        (FCT,),
        ("5", "10", "15", "25", "50"),
        LegalClass.P1S1S3,
        ("type 2 diabetes mellitus", "heart failure", "chronic kidney disease"),
        "It blocks glucose reabsorption in the kidney, so excess glucose leaves the body in the urine.",
    ),
    DrugClass(
        "parin",
        "肝素",
        "low-molecular-weight heparin",
        "B01AB",
        (INJ,),
        ("20", "40", "60", "80", "100", "120"),
        LegalClass.P1S1S3,
        ("prevention of venous thromboembolism", "treatment of deep vein thrombosis", "acute coronary syndrome"),
        "It enhances antithrombin, which inactivates clotting factor Xa and so prevents clots forming or growing.",
    ),
    DrugClass(
        "setron",
        "司瓊",
        "5-HT3 receptor antagonist",
        "A04AA",
        (TAB, INJ),
        ("1", "2", "4", "8", "16", "24"),
        LegalClass.P1S1S3,
        ("chemotherapy-induced nausea and vomiting", "post-operative nausea and vomiting"),
        "It blocks serotonin 5-HT3 receptors in the gut and the vomiting centre of the brain.",
    ),
    DrugClass(
        "glutide",
        "魯肽",
        "glucagon-like peptide-1 (GLP-1) receptor agonist",
        "A10BJ",
        (INJ,),
        ("0.25", "0.5", "1", "1.5", "2", "3"),
        LegalClass.P1S1S3,
        ("type 2 diabetes mellitus", "weight management"),
        "It acts like the hormone GLP-1, raising insulin release, lowering glucagon and slowing stomach emptying.",
    ),
    DrugClass(
        "lukast",
        "司特",
        "leukotriene receptor antagonist",
        "R03DC",
        (FCT, TAB),
        ("4", "5", "10", "20"),
        LegalClass.P1S1S3,
        ("asthma prophylaxis", "allergic rhinitis", "exercise-induced bronchoconstriction"),
        "It blocks leukotriene receptors in the airways, reducing inflammation and narrowing of the airways.",
    ),
    DrugClass(
        "sonide",
        "松",
        "corticosteroid",
        "R03BA",
        (INH, CREAM),
        ("0.05", "0.1", "50", "100", "200", "400"),
        LegalClass.P1S1S3,
        ("asthma", "chronic obstructive pulmonary disease", "eczema", "allergic rhinitis"),
        "It reduces inflammation by switching off many of the genes that drive the inflammatory response.",
    ),
    DrugClass(
        "dronate",
        "膦酸",
        "bisphosphonate",
        "M05BA",
        (TAB, INF),
        ("5", "10", "35", "70", "150"),
        LegalClass.P1S1S3,
        ("postmenopausal osteoporosis", "Paget's disease of bone", "hypercalcaemia of malignancy"),
        "It binds to bone and stops osteoclasts breaking bone down, so bone density increases.",
    ),
    DrugClass(
        "triptan",
        "曲坦",
        "5-HT1B/1D receptor agonist (triptan)",
        "N02CC",
        (TAB, FCT),
        ("2.5", "5", "10", "20", "40", "50"),
        LegalClass.P1S1S3,
        ("acute migraine", "cluster headache"),
        "It narrows widened blood vessels around the brain and blocks the release of pain-signalling peptides.",
    ),
    DrugClass(
        "caine",
        "卡因",
        "amide local anaesthetic",
        "N01BB",
        (IM_INJ, CREAM),
        ("1", "2", "5", "10", "20"),
        LegalClass.P1,
        ("local and regional anaesthesia", "post-operative pain"),
        "It blocks sodium channels in nerve fibres, so pain signals cannot travel along the nerve.",
    ),
    DrugClass(
        "azepam",
        "西泮",
        "benzodiazepine",
        "N05BA",
        (TAB,),
        ("0.5", "1", "2", "5", "10"),
        LegalClass.P1S1,
        ("anxiety", "insomnia (short term)", "alcohol withdrawal", "status epilepticus"),
        "It enhances the calming effect of the neurotransmitter GABA in the brain.",
    ),
    DrugClass(
        "oxetine",
        "西汀",
        "selective serotonin reuptake inhibitor",
        "N06AB",
        (CAP, TAB),
        ("10", "20", "30", "40", "60"),
        LegalClass.P1S1S3,
        ("major depressive disorder", "generalised anxiety disorder", "obsessive-compulsive disorder"),
        "It blocks the reuptake of serotonin into nerve endings, increasing serotonin signalling in the brain.",
    ),
    DrugClass(
        "mycin",
        "黴素",
        "macrolide antibiotic",
        "J01FA",
        (FCT, SUSP, INF),
        ("125", "250", "500"),
        LegalClass.ANTIBIOTIC,
        ("respiratory tract infection", "atypical pneumonia", "Helicobacter pylori eradication"),
        "It binds the bacterial ribosome and stops bacteria making proteins.",
    ),
    DrugClass(
        "cycline",
        "環素",
        "tetracycline antibiotic",
        "J01AA",
        (CAP, TAB),
        ("50", "100", "200"),
        LegalClass.ANTIBIOTIC,
        ("acne vulgaris", "rickettsial infection", "malaria prophylaxis"),
        "It binds the bacterial ribosome and blocks protein synthesis.",
    ),
    DrugClass(
        "platin",
        "鉑",
        "platinum antineoplastic",
        "L01XA",
        (INF,),
        ("50", "100", "150", "450"),
        LegalClass.P1S1S3,
        ("colorectal cancer", "ovarian cancer", "non-small cell lung cancer"),
        "It forms cross-links in the DNA of dividing cells, which stops them dividing.",
    ),
    DrugClass(
        "rubicin",
        "比星",
        "anthracycline",
        "L01DB",
        (INF,),
        ("10", "20", "50", "200"),
        LegalClass.P1S1S3,
        ("breast cancer", "acute leukaemia", "lymphoma"),
        "It slips between DNA strands and blocks topoisomerase II, so cancer cells cannot copy their DNA.",
    ),
    DrugClass(
        "xaban",
        "沙班",
        "direct factor Xa inhibitor",
        "B01AF",
        (FCT,),
        ("2.5", "5", "10", "15", "20", "30", "60"),
        LegalClass.P1S1S3,
        (
            "stroke prevention in atrial fibrillation",
            "treatment of pulmonary embolism",
            "prevention of venous thromboembolism",
        ),
        "It blocks clotting factor Xa directly, so less thrombin and fewer clots are formed.",
    ),
    DrugClass(
        "gatran",
        "加群",
        "direct thrombin inhibitor",
        "B01AE",
        (CAP,),
        ("75", "110", "150"),
        LegalClass.P1S1S3,
        ("stroke prevention in atrial fibrillation", "treatment of deep vein thrombosis"),
        "It binds thrombin directly and stops it turning fibrinogen into fibrin.",
    ),
]

COLOURS = [
    "white",
    "pale yellow",
    "pink",
    "light blue",
    "orange",
    "white to off-white",
    "brown",
    "pale green",
    "lavender",
]
HOLDERS = [
    "Harbour Pharmaceutical (HK) Ltd",
    "Kowloon Life Sciences Ltd",
    "Victoria Peak Pharma Ltd",
    "Pearl River Medical Supplies Ltd",
    "Lantau Generics Ltd",
    "Tsing Yi Healthcare Ltd",
    "Sai Kung Biotech Ltd",
    "Jade Dragon Pharmaceuticals (HK) Ltd",
    "Star Ferry Medical Ltd",
    "Lion Rock Pharma Ltd",
    "Central Medical Distributors Ltd",
    "Aberdeen Pharmaceutical Ltd",
    "New Territories Drug Co Ltd",
    "Tai Po Life Science Park Pharma Ltd",
    "Causeway Bay Medical Ltd",
    "Repulse Bay Pharma (HK) Ltd",
    "Shatin Generics Ltd",
    "Stanley Biologics Ltd",
    "Lamma Healthcare Ltd",
    "Cheung Chau Pharma Ltd",
    "Wan Chai Pharmaceutical Trading Ltd",
    "Mong Kok Medical Ltd",
]
BRAND_ENDINGS = ["ex", "ra", "vel", "tis", "lyn", "qua", "mire", "zon", "dia", "fen", "ax", "oma"]

SIDE_EFFECTS_COMMON = [
    "headache",
    "nausea",
    "diarrhoea",
    "dizziness",
    "tiredness",
    "rash",
    "abdominal pain",
    "constipation",
    "dry mouth",
    "cough",
    "muscle aches",
    "difficulty sleeping",
    "loss of appetite",
    "itching",
]
SIDE_EFFECTS_RARE = [
    "hepatotoxicity with raised liver enzymes",
    "photosensitivity",
    "angioedema",
    "pancreatitis",
    "QT prolongation",
    "agranulocytosis",
    "Stevens-Johnson syndrome",
    "interstitial lung disease",
    "tendon rupture",
    "hyperkalaemia",
    "lactic acidosis",
    "thrombocytopenia",
    "rhabdomyolysis",
]
SEEK_HELP_EN = [
    "swelling of the face, lips, tongue or throat, or difficulty breathing",
    "yellowing of the skin or the whites of the eyes",
    "severe or persistent stomach pain",
    "unusual bruising or bleeding",
    "fever, sore throat or mouth ulcers that do not go away",
    "a fast or irregular heartbeat, or fainting",
    "blistering or peeling of the skin",
    "black or tarry stools, or vomiting blood",
]
SEEK_HELP_ZH = [
    "面部、嘴唇、舌頭或喉嚨腫脹，或呼吸困難",
    "皮膚或眼白變黃",
    "嚴重或持續的腹痛",
    "不尋常的瘀傷或出血",
    "發燒、喉嚨痛或口腔潰瘍持續不退",
    "心跳過快或不規則，或昏厥",
    "皮膚起水泡或脫皮",
]
CONTRA = [
    "hypersensitivity to the active substance or to any of the excipients",
    "pregnancy and breastfeeding unless the benefit clearly outweighs the risk",
    "severe hepatic impairment (Child-Pugh class C)",
    "severe renal impairment (creatinine clearance below 30 mL/min)",
    "concurrent use with strong CYP3A4 inhibitors",
    "a history of angioedema",
    "children under 12 years of age",
]
INTERACTING = [
    "strong CYP3A4 inhibitors such as clarithromycin and ketoconazole",
    "CYP3A4 inducers such as rifampicin, carbamazepine and St John's wort",
    "warfarin and other anticoagulants",
    "non-steroidal anti-inflammatory drugs (NSAIDs)",
    "potassium supplements and potassium-sparing diuretics",
    "other medicines that prolong the QT interval",
    "antacids containing aluminium or magnesium",
    "grapefruit juice",
]
OTHER_SECTIONS = {
    "Pregnancy and breastfeeding": "Use in pregnancy only if the expected benefit outweighs the risk to the foetus. "
    "Small amounts pass into breast milk; discuss feeding options with the prescriber.",
    "Renal impairment": "Reduce the dose when creatinine clearance is below 50 mL/min and monitor renal function "
    "and electrolytes during treatment.",
    "Monitoring": "Check full blood count, liver function tests and renal function before starting, then every "
    "three months, or sooner if symptoms suggest toxicity.",
}
REVISION_COMMENTS = [
    "Updated side effects from the 2023 package insert",
    "Corrected interaction wording after pharmacist review",
    "Added new strength registered with the Drug Office",
    "Revised storage advice",
    "Aligned indications with the HA Drug Formulary update",
    "Clarified contraindications in renal impairment",
    "Minor wording changes after periodic review",
    "Updated Chinese patient advice",
]
ALTERNATIVE_SENTENCES = [
    "The prescriber should review the need for treatment regularly.",
    "Tell the pharmacist about all other medicines, including herbal and over-the-counter products.",
    "Take it at about the same time every day.",
    "Do not stop taking it suddenly without speaking to the doctor.",
    "Keep all follow-up appointments so that the response can be checked.",
    "Elderly patients may be more sensitive to its effects.",
]


def _name_parts():
    """Every (prefix, middle, class) combination, as an ordered list."""
    return list(itertools.product(PREFIXES, MIDDLES, range(len(CLASSES))))


def _join(prefix, middle, suffix):
    stem = prefix + middle
    if suffix[0] in "aeiou" and stem[-1] in "aeiou":
        stem = stem[:-1]
    return (stem + suffix).capitalize()


def name_sequence(seed):
    """Endless-ish deterministic sequence of (generic name, Chinese name, drug class), names unique."""
    parts = _name_parts()
    random.Random(seed).shuffle(parts)  # nosec B311
    seen = set()
    for prefix, middle, class_index in parts:
        drug_class = CLASSES[class_index]
        name = _join(prefix, middle, drug_class.suffix)
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        zh = "".join(PREFIX_ZH[(ord(c) * 7 + i) % len(PREFIX_ZH)] for i, c in enumerate(prefix + middle) if i % 2 == 0)
        yield name, zh + drug_class.zh, drug_class


# --- Text -------------------------------------------------------------------------------------


def _sentences(text):
    return [s for s in text.replace("\n", " \n ").split(". ") if s]


def _bullets(items):
    return "\n".join(f"- {item[0].upper()}{item[1:]}" for item in items)


def section_bodies(rng, name, zh_name, drug_class, products):
    """The ~11 sections of a monograph as (kind, heading, body), in reading order."""
    uses = rng.sample(drug_class.uses, k=min(len(drug_class.uses), rng.randint(2, 4)))
    forms = sorted({p["form_label"] for p in products})
    common = rng.sample(SIDE_EFFECTS_COMMON, k=rng.randint(4, 7))
    rare = rng.sample(SIDE_EFFECTS_RARE, k=rng.randint(2, 4))
    chinese = rng.random() < 0.35
    sections = [
        (
            SectionKind.OVERVIEW,
            "",
            f"{name} ({zh_name}) is a {drug_class.name} used for {uses[0]}"
            + (f" and {uses[1]}." if len(uses) > 1 else ".")
            + f" It is available in Hong Kong as {', '.join(forms).lower()}. "
            "Treatment is started and supervised by a specialist, and the dose is adjusted to response and "
            "tolerability. This monograph summarises the information a ward or dispensary pharmacist needs "
            "most often; the full prescribing information remains the reference for dosing in special populations."
            + (f"\n\n{name}（{zh_name}）屬於{drug_class.zh}類藥物，須由醫生處方並在監察下使用。" if chinese else ""),
        ),
        (
            SectionKind.DRUG_CLASS,
            "",
            f"{name} belongs to the {drug_class.name} group (ATC {drug_class.atc}). "
            f"Medicines in the same class share its main effects and most of its side effects, so switching "
            f"within the class rarely helps a patient who could not tolerate it.",
        ),
        (
            SectionKind.AVAILABILITY,
            "",
            f"Registered products of {name} in Hong Kong:\n\n"
            + _bullets([f"{p['name']} ({p['holder']}): {', '.join(p['strength_labels'])}" for p in products]),
        ),
        (
            SectionKind.USES,
            "",
            f"{name} is used in adults for:\n\n" + _bullets(uses) + "\n\nOther uses are off-label and need "
            "approval by the hospital Drug and Therapeutics Committee.",
        ),
        (
            SectionKind.MECHANISM,
            "",
            f"{drug_class.mechanism} The effect usually starts within a few days, but the full benefit may take "
            f"several weeks. {name} is mostly cleared by the liver and its half-life allows dosing once or twice a day.",
        ),
        (
            SectionKind.SIDE_EFFECTS,
            "",
            "Common side effects (more than 1 in 100 people):\n\n"
            + _bullets(common)
            + "\n\nUncommon but serious (fewer than 1 in 1,000 people):\n\n"
            + _bullets(rare),
        ),
        (
            SectionKind.SEEK_HELP,
            "",
            "Stop taking it and seek medical help straight away if you have:\n\n"
            + _bullets(rng.sample(SEEK_HELP_EN, k=rng.randint(3, 5)))
            + (
                "\n\n如出現以下情況，請立即停藥並求醫：\n\n" + _bullets(rng.sample(SEEK_HELP_ZH, k=rng.randint(3, 4)))
                if chinese
                else ""
            ),
        ),
        (
            SectionKind.CONTRAINDICATIONS,
            "",
            f"Do not use {name} in patients with:\n\n" + _bullets(rng.sample(CONTRA, k=rng.randint(2, 4))),
        ),
        (
            SectionKind.INTERACTIONS,
            "",
            f"Check for interactions before dispensing. {name} interacts with "
            + "; ".join(rng.sample(INTERACTING, k=rng.randint(2, 4)))
            + ". Review the full medication list, including traditional Chinese medicines and supplements, "
            "whenever a new medicine is started.",
        ),
        (
            SectionKind.STORAGE,
            "",
            "Store below 25 °C in the original package to protect from light and moisture. "
            "Keep out of the sight and reach of children. Discard any unused medicine through a pharmacy."
            + ("\n\n存放於攝氏25度以下的原包裝內，避免受潮及陽光直射。請放於兒童接觸不到的地方。" if chinese else ""),
        ),
        (
            SectionKind.DISCLAIMER,
            "",
            "This monograph is synthetic benchmark content and must not be used for clinical decisions. "
            "Always consult the prescribing information and a pharmacist.\n\n"
            "本資料為測試用的模擬內容，不可用作臨床決定。請向藥劑師查詢。",
        ),
    ]
    if rng.random() < 0.25:
        heading = rng.choice(sorted(OTHER_SECTIONS))
        sections.insert(9, (SectionKind.OTHER, heading, OTHER_SECTIONS[heading]))
    elif rng.random() < 0.15:
        sections.pop(4)  # a few monographs have no mechanism section
    return sections


def mutate_body(rng, body):
    """An earlier wording of a section body: one sentence or list item differs."""
    lines = body.split("\n")
    items = [i for i, line in enumerate(lines) if line.startswith("- ")]
    if items and rng.random() < 0.5:
        index = rng.choice(items)
        if len(items) > 2 and rng.random() < 0.5:
            del lines[index]
        else:
            lines[index] = "- " + rng.choice(SIDE_EFFECTS_COMMON + SIDE_EFFECTS_RARE).capitalize()
        return "\n".join(lines)
    sentences = body.split(". ")
    index = rng.randrange(len(sentences))
    replacement = rng.choice(ALTERNATIVE_SENTENCES).rstrip(".")
    if index == len(sentences) - 1 and not sentences[index].endswith("."):
        replacement += "."
    sentences[index] = replacement if sentences[index].strip() else sentences[index]
    return ". ".join(sentences)


# --- Products ---------------------------------------------------------------------------------


class RegistrationNumbers:
    """Hands out unused HK-NNNNN numbers, skipping the demo block; '' once all are taken."""

    def __init__(self):
        taken = Strength.objects.exclude(registration_number="").values_list("registration_number", flat=True)
        self.taken = {int(number[3:]) for number in taken}
        self.next = 1
        self.exhausted = False

    def take(self):
        while self.next < REGISTRATION_NUMBER_LIMIT:
            number = self.next
            self.next += 1
            if number in self.taken or number in RESERVED_REGISTRATION_BLOCK:
                continue
            self.taken.add(number)
            return f"HK-{number:05d}"
        self.exhausted = True
        return ""


def product_specs(rng, name, drug_class, count, strengths_per_product):
    holders = rng.sample(HOLDERS, k=min(count, len(HOLDERS)))
    brands = 1 if count < 3 else rng.randint(1, 2)
    specs = []
    for i in range(count):
        holder = holders[i % len(holders)] + ("" if i < len(holders) else f" ({i})")
        preset = (
            drug_class.forms[i % len(drug_class.forms)] if i < len(drug_class.forms) else rng.choice(drug_class.forms)
        )
        form, route, unit, per_amount, per_unit, pack, appearance = preset
        form_label = str(DosageForm(form).label)
        if unit == Unit.PERCENT:
            amounts = ["0.05", "0.1", "0.3", "0.5", "1", "2"]
        elif form == DosageForm.INHALER:
            amounts = ["50", "100", "125", "200", "250", "400"]
        else:
            amounts = list(drug_class.amounts)
        if i < brands:
            kind = ProductKind.BRAND
            product_name = (name[: rng.randint(3, 5)] + rng.choice(BRAND_ENDINGS)).capitalize()
        else:
            kind = ProductKind.GENERIC
            plural = "s" if form_label.endswith(("tablet", "Tablet", "Capsule")) else ""
            product_name = f"{name} {form_label}{plural} ({holder.split()[0]})"
        while len(amounts) < strengths_per_product:
            amounts.append(str(Decimal(amounts[-1]) * 2))
        chosen = sorted(rng.sample(amounts, k=strengths_per_product), key=Decimal)
        code = "".join(c for c in product_name.upper() if c.isalpha())[:3]
        colour = rng.choice(COLOURS)
        strengths = []
        for amount in chosen:
            strengths.append(
                {
                    "amount": Decimal(amount),
                    "unit": unit,
                    "per_amount": per_amount,
                    "per_unit": per_unit,
                    "dosage_form": form,
                    "route": route,
                    "appearance": appearance.format(colour=colour, code=code, amount=amount),
                    "pack_size": pack,
                }
            )
        label_unit = Unit(unit).label
        specs.append(
            {
                "name": product_name,
                "kind": kind,
                "holder": holder,
                "legal": drug_class.legal,
                "sale": drug_class.sale,
                "status": rng.choice(
                    [
                        FormularyStatus.GENERAL,
                        FormularyStatus.GENERAL,
                        FormularyStatus.SPECIAL,
                        FormularyStatus.SFI_SAFETY_NET,
                        FormularyStatus.SFI,
                    ]
                ),
                "form_label": form_label,
                "strengths": strengths,
                "strength_labels": [
                    f"{a} {label_unit}"
                    + (f" per {per_amount.normalize():f} {Unit(per_unit).label}" if per_amount else "")
                    for a in chosen
                ],
            }
        )
    return specs


# --- History ----------------------------------------------------------------------------------


@dataclass
class PlannedEntry:
    """One entry as generated in memory: current rows plus its history."""

    entry: Entry
    sections: list
    products: list  # list of (Product, [Strength])
    # Per version: {section index: body} and the set of product indexes present.
    version_bodies: list = field(default_factory=list)
    version_products: list = field(default_factory=list)
    version_dates: list = field(default_factory=list)
    version_users: list = field(default_factory=list)
    version_comments: list = field(default_factory=list)
    edition_versions: list = field(default_factory=list)  # version indexes that were published
    approval_dates: list = field(default_factory=list)
    reviewers: list = field(default_factory=list)
    final_state: str = State.PUBLISHED
    revisions: list = field(default_factory=list)
    editions: list = field(default_factory=list)


def plan_history(rng, planned, versions, editors, reviewers, now):
    sections, products = planned.sections, planned.products
    n = versions
    bodies = [None] * n
    bodies[n - 1] = {i: s.body for i, s in enumerate(sections)}
    for k in range(n - 2, -1, -1):
        bodies[k] = dict(bodies[k + 1])
        for index in rng.sample(range(len(sections)), k=min(len(sections), rng.randint(1, 2))):
            bodies[k][index] = mutate_body(rng, bodies[k][index])
    added_at = [0] * len(products)
    if n >= 3:
        for j in range(len(products)):
            if j >= 2 and rng.random() < 0.3:
                added_at[j] = rng.randint(1, n - 1)
    planned.version_bodies = bodies
    planned.version_products = [{j for j in range(len(products)) if added_at[j] <= k} for k in range(n)]

    # Years of history: first saved 3 to 9 years ago, later edits weeks to a year apart, none in the future.
    start = now - datetime.timedelta(days=rng.randint(3 * 365, 9 * 365), seconds=rng.randint(0, 86400))
    gaps = [datetime.timedelta(days=rng.randint(14, 300), seconds=rng.randint(0, 86400)) for _ in range(n - 1)]
    room = now - datetime.timedelta(days=2) - start
    total = sum(gaps, datetime.timedelta(0))
    if total > room:  # a long history: squeeze the gaps in, keeping their proportions
        gaps = [gap * (room / total) for gap in gaps]
    dates = [start]
    for gap in gaps:
        dates.append(dates[-1] + gap)
    planned.version_dates = dates
    planned.version_users = [rng.choice(editors) for _ in range(n)]
    planned.version_comments = ["Initial import from the manufacturer's prescribing information"] + [
        rng.choice(REVISION_COMMENTS) for _ in range(n - 1)
    ]

    roll = rng.random()
    if n >= 2 and roll < 0.10:
        planned.final_state, last_published = State.DRAFT, n - 2
    elif n >= 2 and roll < 0.14:
        planned.final_state, last_published = State.IN_REVIEW, n - 2
    else:
        planned.final_state, last_published = State.PUBLISHED, n - 1
    published = [last_published]
    if last_published >= 2:
        published.insert(0, last_published // 2)
    planned.edition_versions = published
    planned.approval_dates = []
    for k in published:
        latest = (dates[k + 1] if k + 1 < n else now) - datetime.timedelta(hours=1)
        wanted = dates[k] + datetime.timedelta(hours=rng.randint(3, 240))
        planned.approval_dates.append(max(min(wanted, latest), dates[k] + datetime.timedelta(minutes=5)))
    planned.reviewers = [rng.choice(reviewers) for _ in published]


def snapshot_from_rows(planned, k):
    """The `snapshots.snapshot_of_revision` shape of version k, from the rows in memory."""

    def pick(obj, fields, **override):
        values = {name: getattr(obj, name) for name in fields}
        values.update(override)
        return {name: _plain(values[name]) for name in fields}

    entry = planned.entry
    sections = sorted(
        (
            {"id": s.pk, **pick(s, SECTION_FIELDS, body=planned.version_bodies[k][i])}
            for i, s in enumerate(planned.sections)
        ),
        key=lambda s: (s["position"], s["id"]),
    )
    products = []
    for j, (product, strengths) in enumerate(planned.products):
        if j not in planned.version_products[k]:
            continue
        strength_rows = sorted(
            ({"id": s.pk, **pick(s, STRENGTH_FIELDS)} for s in strengths),
            key=lambda s: (s["dosage_form"], Decimal(s["amount"]), s["id"]),
        )
        products.append({"id": product.pk, **pick(product, PRODUCT_FIELDS), "strengths": strength_rows})
    products.sort(key=lambda p: (p["kind"], p["name"].lower(), p["id"]))
    return {"id": entry.pk, **pick(entry, ENTRY_FIELDS), "sections": sections, "products": products}


# --- Writing ----------------------------------------------------------------------------------


@contextmanager
def historical_timestamps(*models):
    """Let bulk_create store the given created_at/updated_at instead of now()."""
    changed = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                changed.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in changed:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class VersionSerializer:
    """Builds Version rows exactly as django-reversion's `_add_to_revision` does, caching
    the serialised text of objects unchanged between revisions."""

    def __init__(self):
        self.cache = {}
        self.content_types = {}

    def version(self, revision, obj, cache_key=None):
        model = type(obj)
        options = _get_options(model)
        if model not in self.content_types:
            self.content_types[model] = _get_content_type(model, "default")
        cached = self.cache.get(cache_key) if cache_key else None
        if cached is None:
            data = serializers.serialize(
                options.format, (obj,), fields=options.fields, use_natural_foreign_keys=options.use_natural_foreign_keys
            )
            cached = (data, force_str(obj))
            if cache_key:
                self.cache[cache_key] = cached
        return Version(
            revision=revision,
            object_id=force_str(getattr(obj, options.object_id_field)),
            content_type=self.content_types[model],
            db="default",
            format=options.format,
            serialized_data=cached[0],
            object_repr=cached[1],
        )


def synthetic_users():
    """Editors and reviewers who authored the synthetic history (no usable password)."""
    User = get_user_model()
    users = {}
    for role, group_name, count in (("editor", "Editors", 6), ("reviewer", "Reviewers", 3)):
        group = Group.objects.filter(name=group_name).first()
        users[role] = []
        for i in range(1, count + 1):
            user, created = User.objects.get_or_create(
                username=f"synthetic-{role}-{i}",
                defaults={"is_staff": True, "email": f"synthetic-{role}-{i}@example.invalid"},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            if group is not None:
                user.groups.add(group)
            users[role].append(user)
    return users["editor"], users["reviewer"]


@dataclass
class GenerationResult:
    entry_ids: list
    entries: int = 0
    sections: int = 0
    products: int = 0
    strengths: int = 0
    revisions: int = 0
    versions: int = 0
    editions: int = 0
    audit_events: int = 0
    seconds: float = 0.0
    registration_numbers_exhausted: bool = False

    def summary(self):
        return (
            f"{self.entries} entries, {self.sections} sections, {self.products} products, {self.strengths} strengths, "
            f"{self.revisions} revisions, {self.versions} versions, {self.editions} editions, "
            f"{self.audit_events} audit events in {self.seconds:.1f} s"
        )


def _progress(stream, done, total, started):
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0.0
    eta = (total - done) / rate if rate else 0.0
    stream.write(f"  {done}/{total} entries ({rate:.0f} entries/s, elapsed {elapsed:.0f} s, ETA {eta:.0f} s)\n")
    stream.flush()


def generate(
    *,
    entries,
    products_per_entry=6,
    strengths_per_product=3,
    versions=5,
    seed=1,
    batch_size=250,
    progress=sys.stderr,
    progress_every=250,
):
    """Add `entries` synthetic entries with their products, history and a live edition.

    Deterministic for a seed. Running again adds further entries (names continue
    the same sequence and skip those already present), so a database can grow
    in steps, e.g. from 500 to 5,000 entries.
    """
    if entries < 0 or products_per_entry < 0 or strengths_per_product < 1 or versions < 1:
        raise ValueError("entries and products must be >= 0, strengths and versions >= 1.")
    started = time.monotonic()
    now = timezone.now()
    editors, reviewers = synthetic_users()
    existing = {n.lower() for n in Entry.objects.values_list("generic_name", flat=True)}
    existing_slugs = set(Entry.objects.values_list("slug", flat=True))
    names = (
        item
        for item in name_sequence(seed)
        if item[0].lower() not in existing and slugify(item[0]) not in existing_slugs
    )
    numbers = RegistrationNumbers()
    serializer = VersionSerializer()
    result = GenerationResult(entry_ids=[])
    done = 0
    while done < entries:
        chunk = []
        for name, zh_name, drug_class in itertools.islice(names, min(batch_size, entries - done)):
            chunk.append(
                _plan_entry(
                    name,
                    zh_name,
                    drug_class,
                    seed,
                    products_per_entry,
                    strengths_per_product,
                    versions,
                    editors,
                    reviewers,
                    now,
                    numbers,
                )
            )
        if not chunk:
            raise RuntimeError(f"Ran out of unique generic names after {done} entries.")
        _write_chunk(chunk, serializer, result)
        serializer.cache.clear()
        previous = done
        done += len(chunk)
        if progress is not None and (done // progress_every > previous // progress_every or done == entries):
            _progress(progress, done, entries, started)
    result.seconds = time.monotonic() - started
    result.registration_numbers_exhausted = numbers.exhausted
    return result


def _plan_entry(
    name,
    zh_name,
    drug_class,
    seed,
    products_per_entry,
    strengths_per_product,
    versions,
    editors,
    reviewers,
    now,
    numbers,
):
    rng = random.Random(f"{seed}:{name}")  # nosec B311
    synonyms = [
        zh_name,
        name.replace("ph", "f").replace("y", "i") if ("ph" in name or "y" in name) else name + "um",
        f"{name[:2].upper()}-{rng.randint(100, 9999)}",
    ]
    entry = Entry(
        generic_name=name,
        slug=slugify(name),
        synonyms="\n".join(synonyms),
        drug_class=drug_class.name,
        atc_code=f"{drug_class.atc}{rng.randint(1, 99):02d}",
        notes=SYNTHETIC_NOTE,
    )
    specs = product_specs(rng, name, drug_class, products_per_entry, strengths_per_product)
    products = []
    for spec in specs:
        product = Product(
            name=spec["name"],
            kind=spec["kind"],
            certificate_holder=spec["holder"],
            legal_classification=spec["legal"],
            sale_requirement=spec["sale"],
            formulary_status=spec["status"],
            notes=SYNTHETIC_NOTE,
        )
        strengths = [Strength(registration_number=numbers.take(), **s) for s in spec["strengths"]]
        products.append((product, strengths))
    sections = [
        Section(kind=kind, heading=heading, position=(i + 1) * 10, body=body)
        for i, (kind, heading, body) in enumerate(section_bodies(rng, name, zh_name, drug_class, specs))
    ]
    planned = PlannedEntry(entry=entry, sections=sections, products=products)
    plan_history(rng, planned, versions, editors, reviewers, now)
    entry.created_at = planned.version_dates[0]
    entry.updated_at = planned.version_dates[-1]
    return planned


def _write_chunk(chunk, serializer, result):
    with transaction.atomic(), historical_timestamps(Entry, AuditEvent):
        Entry.objects.bulk_create([p.entry for p in chunk])
        for p in chunk:
            for s in p.sections:
                s.entry = p.entry
            for product, _ in p.products:
                product.entry = p.entry
        Section.objects.bulk_create([s for p in chunk for s in p.sections], batch_size=2000)
        Product.objects.bulk_create([pr for p in chunk for pr, _ in p.products], batch_size=2000)
        for p in chunk:
            for product, strengths in p.products:
                for s in strengths:
                    s.product = product
        Strength.objects.bulk_create([s for p in chunk for _, ss in p.products for s in ss], batch_size=2000)

        revisions = []
        for p in chunk:
            p.revisions = [
                Revision(date_created=p.version_dates[k], user=p.version_users[k], comment=p.version_comments[k])
                for k in range(len(p.version_dates))
            ]
            revisions.extend(p.revisions)
        Revision.objects.bulk_create(revisions, batch_size=2000)

        version_rows = []
        for p in chunk:
            version_rows.extend(_versions_of(p, serializer))
        Version.objects.bulk_create(version_rows, batch_size=1000)

        editions = []
        for p in chunk:
            p.editions = []
            for number, (k, approved_at, reviewer) in enumerate(
                zip(p.edition_versions, p.approval_dates, p.reviewers, strict=True), start=1
            ):
                content = snapshot_from_rows(p, k)
                p.editions.append(
                    Edition(
                        entry=p.entry,
                        number=number,
                        revision=p.revisions[k],
                        content=content,
                        **listing_fields(content),
                        approved_by=reviewer,
                        approved_at=approved_at,
                        next_review_due=timezone.localdate(approved_at) + datetime.timedelta(days=730),
                    )
                )
            editions.extend(p.editions)
        Edition.objects.bulk_create(editions, batch_size=500)

        states, events = [], []
        for p in chunk:
            live = p.editions[-1]
            in_review = p.final_state == State.IN_REVIEW
            states.append(
                EntryState(
                    entry=p.entry,
                    state=p.final_state,
                    live_edition=live,
                    next_review_due=live.next_review_due,
                    submitted_revision=p.revisions[-1] if in_review else None,
                    submitted_by=p.version_users[-1] if in_review else None,
                    submitted_at=p.version_dates[-1] + datetime.timedelta(hours=2) if in_review else None,
                )
            )
            events.extend(_audit_events(p))
        EntryState.objects.bulk_create(states, batch_size=2000)
        AuditEvent.objects.bulk_create(events, batch_size=2000)

    result.entry_ids.extend(p.entry.pk for p in chunk)
    result.entries += len(chunk)
    result.sections += sum(len(p.sections) for p in chunk)
    result.products += sum(len(p.products) for p in chunk)
    result.strengths += sum(len(ss) for p in chunk for _, ss in p.products)
    result.revisions += len(revisions)
    result.versions += len(version_rows)
    result.editions += len(editions)
    result.audit_events += len(events)


def _versions_of(p, serializer):
    rows = []
    entry = p.entry
    final_updated_at = entry.updated_at
    for k, revision in enumerate(p.revisions):
        entry.updated_at = p.version_dates[k]
        rows.append(serializer.version(revision, entry))
        for i, section in enumerate(p.sections):
            body = p.version_bodies[k][i]
            if body == section.body:
                rows.append(serializer.version(revision, section, cache_key=("section", section.pk)))
            else:
                old = Section(
                    pk=section.pk,
                    entry_id=section.entry_id,
                    kind=section.kind,
                    heading=section.heading,
                    position=section.position,
                    body=body,
                )
                rows.append(serializer.version(revision, old, cache_key=("section", section.pk, body)))
        for j, (product, strengths) in enumerate(p.products):
            if j not in p.version_products[k]:
                continue
            rows.append(serializer.version(revision, product, cache_key=("product", product.pk)))
            rows.extend(serializer.version(revision, s, cache_key=("strength", s.pk)) for s in strengths)
    entry.updated_at = final_updated_at
    return rows


def _audit_events(p):
    """The review trail: each publication was submitted, then approved; an edit after one reopened a draft."""
    events = []
    published_state = None
    editions = iter(zip(p.edition_versions, p.editions, strict=True))
    next_edition = next(editions, None)
    for k, revision in enumerate(p.revisions):
        editor, when = p.version_users[k], p.version_dates[k]
        if published_state is not None:
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.EDITED,
                    from_state=State.PUBLISHED,
                    to_state=State.DRAFT,
                    actor=editor,
                    revision=revision,
                    created_at=when,
                )
            )
            published_state = None
        submitted = next_edition is not None and next_edition[0] == k
        if submitted or (k == len(p.revisions) - 1 and p.final_state == State.IN_REVIEW):
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.SUBMITTED,
                    from_state=State.DRAFT,
                    to_state=State.IN_REVIEW,
                    actor=editor,
                    comment="Ready for review",
                    revision=revision,
                    created_at=when + datetime.timedelta(hours=2),
                )
            )
        if submitted:
            edition = next_edition[1]
            events.append(
                AuditEvent(
                    entry=p.entry,
                    action=Action.APPROVED,
                    from_state=State.IN_REVIEW,
                    to_state=State.PUBLISHED,
                    actor=edition.approved_by,
                    comment="Checked against the prescribing information",
                    revision=revision,
                    edition=edition,
                    created_at=edition.approved_at,
                )
            )
            published_state = True
            next_edition = next(editions, None)
    return events
