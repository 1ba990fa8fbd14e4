"""Name tables of the synthetic formulary: drug classes with their dosage forms, and generic names.

Each generic name is a stem (prefix and middle syllable) plus a class suffix
(-mab, -tinib, -pril, ...); its Chinese name is built the same way.
"""

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal

from monographs.vocabulary import DosageForm, LegalClass, Route, SaleRequirement, Unit

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
