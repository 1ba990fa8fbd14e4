"""Published editions as FHIR R4 (4.0.1) resources, as plain JSON-ready dicts.

One MedicationKnowledge per entry (id = entry id) and one Medication per
product strength (id = strength id), built from `Edition.content` only, so
FHIR shows exactly what a reviewer approved.

Mapping (see docs/api.md):
  MedicationKnowledge.code                  generic name (text), ATC code as a coding when known
  MedicationKnowledge.synonym               synonyms
  MedicationKnowledge.medicineClassification drug class; ATC; HA formulary status of the products
  MedicationKnowledge.monograph             one contained DocumentReference per monograph section
  MedicationKnowledge.text                  the whole monograph as narrative
  MedicationKnowledge.regulatory.schedule   legal classification(s) of the products
  MedicationKnowledge.associatedMedication  the Medication of every strength
  Medication.identifier                     HK registration number
  Medication.form                           dosage form
  Medication.ingredient.strength            Ratio, e.g. 5 mg per 1 capsule, 250 mg per 5 mL
  Medication.manufacturer                   certificate holder (display only)
  Medication.extension                      HA formulary status and legal classification of the product

Language: a resource is in its primary language, English (`Resource.language` "en"),
whatever the request's Accept-Language says, so one `meta.versionId` always has one content.
A section's Chinese text is a second attachment of its DocumentReference with `language`
"zh-Hant"; Chinese strings (the entry's and a product's Chinese name, the boxed warning, a
section title) are the standard translation extension on the `_<element>` of the English
string.

Time: `meta.lastUpdated` is when the edition went live (`Edition.published_at`), not its
approval: a scheduled edition is new to readers when it goes live.
"""

import base64
import html
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.utils import translation

from .snapshots import chinese_synonym_list, choice_label, safety_flags, section_title, strength_text, synonym_list
from .vocabulary import DosageForm, FormularyStatus, LegalClass, Route, SafetyFlag, SectionKind

FHIR_CONTENT_TYPE = "application/fhir+json"
ATC_SYSTEM = "http://www.whocc.no/atc"
UCUM_SYSTEM = "http://unitsofmeasure.org"
ORDERABLE_DRUG_FORM_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
MONOGRAPH_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/medicationknowledge-monograph-type"
TRANSLATION_EXTENSION = "http://hl7.org/fhir/StructureDefinition/translation"
CHINESE = "zh-Hant"
PRIMARY_LANGUAGE = "en"
XHTML = "http://www.w3.org/1999/xhtml"
# The subset tag of a resource shown with only some of its elements (_summary, _elements).
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}

# Units of the vocabulary as UCUM codes; "unit" and "dose" have no UCUM code and go as text only.
UCUM = {"mg": "mg", "g": "g", "mcg": "ug", "ng": "ng", "mL": "mL", "L": "L", "IU": "[IU]", "mmol": "mmol", "%": "%"}
# Unit-dose forms with an HL7 v3 orderable drug form code, for the denominator of a strength.
UNIT_DOSE_FORMS = {
    DosageForm.CAPSULE: ("CAP", "capsule"),
    DosageForm.TABLET: ("TAB", "tablet"),
    DosageForm.FILM_COATED_TABLET: ("FILMTAB", "film-coated tablet"),
}


def in_english(builder):
    """Build with English labels whatever language the request activated: a FHIR resource has
    one primary language, and Chinese goes only into translation extensions and attachments."""

    @wraps(builder)
    def wrapper(*args, **kwargs):
        with translation.override(PRIMARY_LANGUAGE):
            return builder(*args, **kwargs)

    return wrapper


def system(name):
    """A code system or identifier system of this formulary, under FORMULARY_FHIR_SYSTEM_BASE."""
    base = settings.FORMULARY_FHIR_SYSTEM_BASE.rstrip("/")
    return f"{base}/{name}"


def _coding(system_name, choices, value):
    return {"system": system(f"CodeSystem/{system_name}"), "code": value, "display": choice_label(choices, value)}


def _concept(system_name, choices, value):
    return {"coding": [_coding(system_name, choices, value)], "text": choice_label(choices, value)}


def _number(text):
    value = Decimal(str(text))
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(amount, unit):
    quantity = {"value": _number(amount), "unit": unit}
    if unit in UCUM:
        quantity.update(system=UCUM_SYSTEM, code=UCUM[unit])
    return quantity


def _meta(edition):
    return {"versionId": str(edition.number), "lastUpdated": edition.published_at.isoformat()}


def _unique(values):
    return list(dict.fromkeys(values))


def _div(parts):
    """A generated narrative in English, saying so (`lang` and `xml:lang`) for readers and screen readers."""
    body = "".join(parts)
    return {
        "status": "generated",
        "div": f'<div xmlns="{XHTML}" lang="{PRIMARY_LANGUAGE}" xml:lang="{PRIMARY_LANGUAGE}">{body}</div>',
    }


def _narrative(content):
    parts = [f"<h2>{html.escape(content['generic_name'])}</h2>"]
    for section in content.get("sections", []):
        title = section_title(section)
        parts.append(f"<h3>{html.escape(title)}</h3>")
        for paragraph in section["body"].split("\n\n"):
            if paragraph.strip():
                text = html.escape(paragraph.strip()).replace("\n", "<br/>")
                parts.append(f"<p>{text}</p>")
    return _div(parts)


def _translated(chinese):
    """The `_<element>` of an English string carrying its Chinese translation, or None without one."""
    if not (chinese or "").strip():
        return None
    return {
        "extension": [
            {
                "url": TRANSLATION_EXTENSION,
                "extension": [{"url": "lang", "valueCode": CHINESE}, {"url": "content", "valueString": chinese}],
            }
        ]
    }


def _with_translation(element, name, chinese):
    """`element` with the Chinese translation of its string `name` added, when there is one."""
    extension = _translated(chinese)
    if extension:
        element[f"_{name}"] = extension
    return element


def _chinese_section_title(section):
    if (section.get("heading_zh") or "").strip():
        return section["heading_zh"]
    if (section.get("heading") or "").strip():
        return ""  # an own English heading nobody translated
    with translation.override("zh-hant"):
        return str(choice_label(SectionKind, section["kind"]))


def _attachment(text, language, title):
    return {
        "contentType": "text/markdown; charset=utf-8",
        "language": language,
        "title": title,
        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
    }


def _section_document(section, edition):
    title = section_title(section)
    chinese_title = _chinese_section_title(section)
    content = [{"attachment": _attachment(section["body"], "en", title)}]
    if (section.get("body_zh") or "").strip():
        content.append({"attachment": _attachment(section["body_zh"], CHINESE, chinese_title or title)})
    return {
        "resourceType": "DocumentReference",
        "id": f"section-{section['id']}",
        "status": "current",
        "type": {"coding": [_coding("section-kind", SectionKind, section["kind"])], "text": title},
        "date": edition.published_at.isoformat(),
        **_with_translation({"description": title}, "description", chinese_title),
        "content": content,
    }


@in_english
def medication_knowledge(edition, *, base_url=""):
    """The FHIR R4 MedicationKnowledge of one published edition."""
    content = edition.content
    products = content.get("products", [])
    code = _with_translation({"text": content["generic_name"]}, "text", content.get("chinese_name"))
    if content.get("atc_code"):
        code["coding"] = [{"system": ATC_SYSTEM, "code": content["atc_code"], "display": content["generic_name"]}]

    classifications = []
    if content.get("drug_class"):
        classifications.append({"type": {"text": "Drug class"}, "classification": [{"text": content["drug_class"]}]})
    if content.get("atc_code"):
        classifications.append(
            {
                "type": {"text": "ATC"},
                "classification": [{"coding": [{"system": ATC_SYSTEM, "code": content["atc_code"]}]}],
            }
        )
    statuses = _unique(p["formulary_status"] for p in products)
    if statuses:
        classifications.append(
            {
                "type": {"text": "Hospital Authority Drug Formulary status"},
                "classification": [_concept("ha-formulary-status", FormularyStatus, s) for s in statuses],
            }
        )

    flags = safety_flags(content)
    if flags:
        classifications.append(
            {
                "type": {"text": "Safety flags"},
                "classification": [_concept("safety-flag", SafetyFlag, flag) for flag in flags],
            }
        )

    sections = content.get("sections", [])
    resource = {
        "resourceType": "MedicationKnowledge",
        "id": str(edition.entry_id),
        "meta": _meta(edition),
        "language": PRIMARY_LANGUAGE,
        "text": _narrative(content),
        "contained": [_section_document(s, edition) for s in sections],
        "code": code,
        "status": "active",
        "synonym": _unique(
            [
                *([content["chinese_name"]] if content.get("chinese_name") else []),
                *synonym_list(content),
                *chinese_synonym_list(content),
            ]
        ),
        "associatedMedication": [
            {"reference": f"{base_url}Medication/{s['id']}", "display": f"{p['name']} {_strength_text(s)}"}
            for p in products
            for s in p.get("strengths", [])
        ],
        "intendedRoute": [
            _concept("route", Route, route) for route in _unique(s["route"] for p in products for s in p["strengths"])
        ],
        "medicineClassification": classifications,
        "monograph": [
            {
                "type": {
                    "coding": [{"system": MONOGRAPH_TYPE_SYSTEM, "code": "patient", "display": "Patient monograph"}]
                },
                "source": {
                    "reference": f"#section-{s['id']}",
                    "display": section_title(s),
                },
            }
            for s in sections
        ],
    }
    dose_sections = [s for s in sections if s.get("kind") == SectionKind.DOSE]
    if dose_sections:
        # "Dose and administration" is what R4 calls administration guidelines: each such section
        # as one guideline whose dosage text is the section's (with its Chinese, when translated).
        resource["administrationGuidelines"] = [
            {
                "dosage": [
                    {
                        "type": {"coding": [_coding("section-kind", SectionKind, s["kind"])], "text": section_title(s)},
                        "dosage": [_with_translation({"text": s["body"]}, "text", s.get("body_zh"))],
                    }
                ]
            }
            for s in dose_sections
        ]
    legal = _unique(p["legal_classification"] for p in products)
    if legal:
        resource["regulatory"] = [
            {
                "regulatoryAuthority": {"display": "Department of Health, Hong Kong (Drug Office)"},
                "schedule": [{"schedule": _concept("hk-legal-classification", LegalClass, c)} for c in legal],
            }
        ]
    if content.get("boxed_warning"):
        # MedicationKnowledge has no element for a boxed warning; an extension of this formulary carries it.
        resource["extension"] = [
            _with_translation(
                {"url": system("StructureDefinition/boxed-warning"), "valueString": content["boxed_warning"]},
                "valueString",
                content.get("boxed_warning_zh"),
            )
        ]
    return {key: value for key, value in resource.items() if value not in ([], None)}


def _strength_text(strength):
    return f"{strength_text(strength)} {choice_label(DosageForm, strength['dosage_form']).lower()}"


def _ratio(strength):
    numerator = _quantity(strength["amount"], strength["unit"])
    if strength.get("per_amount") is not None:
        denominator = _quantity(strength["per_amount"], strength["per_unit"])
    elif strength["dosage_form"] in UNIT_DOSE_FORMS:
        code, unit = UNIT_DOSE_FORMS[strength["dosage_form"]]
        denominator = {"value": 1, "unit": unit, "system": ORDERABLE_DRUG_FORM_SYSTEM, "code": code}
    else:
        denominator = {"value": 1, "unit": choice_label(DosageForm, strength["dosage_form"]).lower()}
    return {"numerator": numerator, "denominator": denominator}


def _medication_narrative(content, product, strength):
    rows = [
        ("Product", f"{product['name']} {_strength_text(strength)}"),
        ("Active ingredient", f"{content['generic_name']} {strength_text(strength)}"),
        ("Dosage form", choice_label(DosageForm, strength["dosage_form"])),
        ("Route", choice_label(Route, strength["route"])),
        ("Certificate holder", product["certificate_holder"]),
        ("HA formulary status", choice_label(FormularyStatus, product["formulary_status"])),
        ("Legal classification", choice_label(LegalClass, product["legal_classification"])),
    ]
    if strength.get("registration_number"):
        rows.append(("Hong Kong registration number", strength["registration_number"]))
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return _div([f"<table>{cells}</table>"])


@in_english
def medication(edition, product, strength, *, base_url=""):
    """The FHIR R4 Medication of one strength of a product in a published edition."""
    content = edition.content
    ingredient_code = {"text": content["generic_name"]}
    if content.get("atc_code"):
        ingredient_code["coding"] = [
            {"system": ATC_SYSTEM, "code": content["atc_code"], "display": content["generic_name"]}
        ]
    resource = {
        "resourceType": "Medication",
        "id": str(strength["id"]),
        "meta": _meta(edition),
        "language": PRIMARY_LANGUAGE,
        "text": _medication_narrative(content, product, strength),
        "extension": [
            {
                "url": system("StructureDefinition/ha-formulary-status"),
                "valueCodeableConcept": _concept("ha-formulary-status", FormularyStatus, product["formulary_status"]),
            },
            {
                "url": system("StructureDefinition/hk-legal-classification"),
                "valueCodeableConcept": _concept(
                    "hk-legal-classification", LegalClass, product["legal_classification"]
                ),
            },
            {
                "url": system("StructureDefinition/medication-knowledge"),
                "valueReference": {
                    "reference": f"{base_url}MedicationKnowledge/{edition.entry_id}",
                    "display": content["generic_name"],
                },
            },
        ],
        "identifier": [
            {"system": system("sid/strength-id"), "value": str(strength["id"])},
        ],
        "code": _with_translation(
            {
                # The ATC code classifies the product too, so `Medication?code=` finds it as on MedicationKnowledge.
                **({"coding": ingredient_code["coding"]} if "coding" in ingredient_code else {}),
                "text": f"{product['name']} {_strength_text(strength)}",
            },
            "text",
            f"{product['chinese_name']} {strength_text(strength)}" if product.get("chinese_name") else "",
        ),
        "status": "active",
        "manufacturer": {"display": product["certificate_holder"]},
        "form": _concept("dosage-form", DosageForm, strength["dosage_form"]),
        "ingredient": [{"itemCodeableConcept": ingredient_code, "isActive": True, "strength": _ratio(strength)}],
    }
    if strength.get("registration_number"):
        resource["identifier"].insert(
            0,
            {
                "use": "official",
                "type": {"text": "Hong Kong registration number"},
                "system": system("sid/hk-registration-number"),
                "value": strength["registration_number"],
            },
        )
    return resource


def operation_outcome(code, diagnostics, severity="error"):
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
