"""Monograph text of the synthetic formulary: about eleven sections per entry, and earlier wordings."""

from monographs.vocabulary import SectionKind

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
ALTERNATIVE_SENTENCES = [
    "The prescriber should review the need for treatment regularly.",
    "Tell the pharmacist about all other medicines, including herbal and over-the-counter products.",
    "Take it at about the same time every day.",
    "Do not stop taking it suddenly without speaking to the doctor.",
    "Keep all follow-up appointments so that the response can be checked.",
    "Elderly patients may be more sensitive to its effects.",
]


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
