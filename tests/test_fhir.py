"""FHIR R4 export: the lenalidomide demo entry as a MedicationKnowledge and one
Medication per strength, valid by the fhir.resources R4B models (R4B keeps the
R4 structure of these resources), served as application/fhir+json; drafts,
never-published and withdrawn entries are 404 with an OperationOutcome."""

import base64

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.element import Element
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationknowledge import MedicationKnowledge
from fhir.resources.R4B.operationoutcome import OperationOutcome

from monographs import fhir, workflow
from monographs.models import Edition, Strength

from .factories import make_entry, one_product, publish

FHIR_JSON = "application/fhir+json"


pytestmark = pytest.mark.usefixtures("empty_cache")


def modelled(body):
    """`body` for fhir.resources: the primitive extensions of an extension's value (FHIR JSON
    `"_valueString"`, where the boxed warning's Chinese translation goes) are valid FHIR R4 but
    not modelled by fhir.resources 8, so each is validated on its own as an Element and taken out."""
    if isinstance(body, list):
        return [modelled(item) for item in body]
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        if key.startswith("_value") and "url" in body:
            Element.model_validate(value)
            continue
        out[key] = modelled(value)
    return out


def fetch(client, path, model, status=200, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    return model.model_validate(modelled(body)), body


def strengths_of(edition):
    return [(p, s) for p in edition.content["products"] for s in p["strengths"]]


def test_medication_knowledge_of_lenalidomide_parses_and_maps_the_monograph(client, published_lenalidomide):
    entry = published_lenalidomide
    edition = Edition.objects.live().get(entry=entry)
    resource, body = fetch(client, f"/fhir/MedicationKnowledge/{entry.pk}", MedicationKnowledge)

    assert resource.id == str(entry.pk)
    assert resource.status == "active"
    assert resource.code.text == "Lenalidomide"
    assert (resource.code.coding[0].system, resource.code.coding[0].code) == ("http://www.whocc.no/atc", "L04AX04")
    assert {"CC-5013", "來那度胺"} <= set(resource.synonym)
    assert resource.meta.versionId == "1"

    classes = {c.type.text: c.classification for c in resource.medicineClassification}
    assert classes["Drug class"][0].text == "Immunomodulatory imide drug"
    statuses = {c.coding[0].code for c in classes["Hospital Authority Drug Formulary status"]}
    assert statuses == {"sfi_safety_net", "special"}

    schedules = resource.regulatory[0].schedule
    assert [s.schedule.coding[0].code for s in schedules] == ["p1s1s3"]
    assert schedules[0].schedule.text == "Part 1, Schedule 1 & Schedule 3 Poison"

    # Each monograph section: a contained document the monograph element points to, and the narrative.
    sections = edition.content["sections"]
    assert len(resource.monograph) == len(sections) == len(resource.contained) == 11
    contained = {c.id: c for c in resource.contained}
    for monograph, section in zip(resource.monograph, sections, strict=True):
        document = contained[monograph.source.reference.removeprefix("#")]
        attachment = document.content[0].attachment
        assert attachment.data.decode("utf-8") == section["body"]  # the library decodes base64Binary
        assert attachment.title == (section["heading"] or document.type.text)
    assert "Lenalidomide modulates immune system activity" in body["text"]["div"]

    medications = [m.reference for m in resource.associatedMedication]
    assert len(medications) == 18
    assert all(ref.startswith("http://testserver/fhir/Medication/") for ref in medications)


def test_every_strength_is_a_medication_with_registration_number_and_ratio(client, published_lenalidomide):
    edition = Edition.objects.live().get(entry=published_lenalidomide)
    registrations, strengths = set(), set()
    for product, strength in strengths_of(edition):
        resource, _ = fetch(client, f"/fhir/Medication/{strength['id']}", Medication)
        official = [i for i in resource.identifier if i.use == "official"]
        assert official[0].value == strength["registration_number"]
        assert official[0].system.endswith("/sid/hk-registration-number")
        registrations.add(official[0].value)
        assert resource.manufacturer.display == product["certificate_holder"]
        assert resource.form.coding[0].code == "capsule"
        ratio = resource.ingredient[0].strength
        assert resource.ingredient[0].itemCodeableConcept.text == "Lenalidomide"
        assert (ratio.numerator.unit, ratio.numerator.system, ratio.numerator.code) == (
            "mg",
            "http://unitsofmeasure.org",
            "mg",
        )
        assert (ratio.denominator.value, ratio.denominator.unit, ratio.denominator.code) == (1, "capsule", "CAP")
        strengths.add(str(ratio.numerator.value))
        status = next(e for e in resource.extension if e.url.endswith("ha-formulary-status"))
        assert status.valueCodeableConcept.coding[0].code == product["formulary_status"]
        assert product["name"] in resource.code.text
    assert registrations == {f"HK-90{p}0{n}" for p in (1, 2, 3) for n in range(1, 7)}
    assert strengths == {"2.5", "5", "10", "15", "20", "25"}


def test_five_mg_capsule_is_five_mg_per_one_capsule(client, published_lenalidomide):
    strength = Strength.objects.get(registration_number="HK-90102")
    _, body = fetch(client, f"/fhir/Medication/{strength.pk}", Medication)
    assert body["ingredient"][0]["strength"] == {
        "numerator": {"value": 5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
        "denominator": {
            "value": 1,
            "unit": "capsule",
            "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
            "code": "CAP",
        },
    }
    assert body["code"]["text"] == "Revlimid 5 mg capsule"


def test_liquid_strength_is_a_ratio_per_volume(client, published_lenalidomide, editor, reviewer):
    entry = publish(
        make_entry(
            "Paracetamol",
            drug_class="Analgesic",
            products=[
                one_product(
                    "Paracetamol", status="general", legal="not_poison", registration="HK-44444", amount="250", per="5"
                )
            ],
        ),
        editor=editor,
        reviewer=reviewer,
    )
    strength = Strength.objects.get(product__entry=entry)
    resource, body = fetch(client, f"/fhir/Medication/{strength.pk}", Medication)
    assert body["ingredient"][0]["strength"]["denominator"] == {
        "value": 5,
        "unit": "mL",
        "system": "http://unitsofmeasure.org",
        "code": "mL",
    }
    assert resource.code.text == "Paracetamol product 250 mg per 5 mL oral solution"


def test_search_by_name_is_a_searchset_bundle(client, published_lenalidomide, editor, reviewer):
    publish(
        make_entry(
            "Metformin",
            drug_class="Biguanide",
            products=[one_product("Metformin", status="general", legal="p1s3", registration="HK-11111")],
        ),
        editor=editor,
        reviewer=reviewer,
    )
    bundle, body = fetch(client, "/fhir/MedicationKnowledge?name=lenalid", Bundle)
    assert bundle.type == "searchset" and bundle.total == 1
    assert bundle.entry[0].resource.code.text == "Lenalidomide"
    assert bundle.entry[0].fullUrl == f"http://testserver/fhir/MedicationKnowledge/{published_lenalidomide.pk}"
    MedicationKnowledge.model_validate(modelled(body["entry"][0]["resource"]))

    assert fetch(client, "/fhir/MedicationKnowledge?name=CC-5013", Bundle)[0].total == 1
    assert fetch(client, "/fhir/MedicationKnowledge?name=Revlimid", Bundle)[0].total == 1
    assert fetch(client, "/fhir/MedicationKnowledge?name=nothing", Bundle)[0].total == 0
    assert fetch(client, "/fhir/MedicationKnowledge", Bundle)[0].total == 2
    page, _ = fetch(client, "/fhir/MedicationKnowledge?_count=1&_format=json", Bundle)
    assert (page.total, len(page.entry)) == (2, 1)
    assert page.entry[0].resource.code.text == "Lenalidomide"
    following = next(link.url for link in page.link if link.relation == "next")
    last, _ = fetch(client, following.removeprefix("http://testserver"), Bundle)
    assert [e.resource.code.text for e in last.entry] == ["Metformin"]
    assert [link.relation for link in last.link] == ["self", "first", "previous", "last"]


def test_medication_search_by_registration_number(client, published_lenalidomide):
    bundle, _ = fetch(client, "/fhir/Medication?identifier=HK-90203", Bundle)
    assert bundle.total == 1
    assert bundle.entry[0].resource.manufacturer.display == "Sandoz Hong Kong Ltd (demo)"
    system = fhir.system("sid/hk-registration-number")
    assert fetch(client, f"/fhir/Medication?identifier={system}|HK-90203", Bundle)[0].total == 1
    assert fetch(client, "/fhir/Medication?identifier=HK-00000", Bundle)[0].total == 0


def test_drafts_are_404_operation_outcomes(client, lenalidomide):
    strength = Strength.objects.filter(product__entry=lenalidomide).first()
    for path in (
        f"/fhir/MedicationKnowledge/{lenalidomide.pk}",
        f"/fhir/Medication/{strength.pk}",
        "/fhir/MedicationKnowledge/abc",
        "/fhir/Medication/999999",
    ):
        outcome, _ = fetch(client, path, OperationOutcome, status=404)
        assert outcome.issue[0].code == "not-found"
    assert fetch(client, "/fhir/MedicationKnowledge?name=lenalidomide", Bundle)[0].total == 0
    assert fetch(client, "/fhir/Medication?identifier=HK-90101", Bundle)[0].total == 0


def test_withdrawn_entries_are_410_gone(client, published_lenalidomide, reviewer):
    # FHIR's deleted resource: it was public, so a client learns it is gone, not that it never was.
    entry = published_lenalidomide
    strength = Strength.objects.filter(product__entry=entry).first()
    workflow.withdraw(entry=entry, user=reviewer, comment="Recall")
    for path in (
        f"/fhir/MedicationKnowledge/{entry.pk}",
        f"/fhir/MedicationKnowledge/{entry.pk}/_history",
        f"/fhir/MedicationKnowledge/{entry.pk}/_history/1",
        f"/fhir/Medication/{strength.pk}",
        f"/fhir/Medication/{strength.pk}/_history",
        f"/fhir/Medication/{strength.pk}/_history/1",
    ):
        outcome, _ = fetch(client, path, OperationOutcome, status=410)
        assert outcome.issue[0].code == "deleted"
    assert fetch(client, "/fhir/MedicationKnowledge?name=lenalidomide", Bundle)[0].total == 0


def test_bad_search_parameters_are_400_operation_outcomes(client, published_lenalidomide):
    for query in ("?colour=red", "?name=", "?_count=x", "?_count=%C2%B2", "?_offset=-1", "?_lastUpdated=gx2026"):
        outcome, _ = fetch(client, f"/fhir/MedicationKnowledge{query}", OperationOutcome, status=400)
        assert outcome.issue[0].code == "invalid"


def test_read_supports_conditional_get(client, published_lenalidomide):
    path = f"/fhir/MedicationKnowledge/{published_lenalidomide.pk}"
    etag = client.get(path)["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_the_fhir_library_refuses_unknown_elements_so_nothing_above_passed_by_being_ignored():
    with pytest.raises(ValueError):
        Medication.model_validate({"resourceType": "Medication", "strenght": {}})


def test_fhir_is_rate_limited_too(client, published_lenalidomide, settings):
    settings.FORMULARY_API_THROTTLE_RATE = "2/minute"
    path = f"/fhir/MedicationKnowledge/{published_lenalidomide.pk}"
    assert [client.get(path).status_code for _ in range(2)] == [200, 200]
    outcome, _ = fetch(client, path, OperationOutcome, status=429)
    assert outcome.issue[0].code == "throttled"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/fhir/MedicationKnowledge", "/fhir/MedicationKnowledge/{pk}", "/fhir/Medication"])
def test_writes_are_405_operation_outcomes_not_csrf_pages(published_lenalidomide, method, path):
    # A client enforcing CSRF, like a real server: the write met Django's HTML CSRF 403 page.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(
        path.format(pk=published_lenalidomide.pk), '{"resourceType": "Medication"}', content_type=FHIR_JSON
    )
    assert response.status_code == 405, response.content[:200]
    assert response["Content-Type"].startswith(FHIR_JSON)
    assert response["Allow"] == "GET, HEAD"
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-supported"
    assert Edition.objects.count() == 1


def test_head_is_answered_like_get(client, published_lenalidomide):
    response = client.head(f"/fhir/MedicationKnowledge/{published_lenalidomide.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)


@pytest.mark.parametrize(
    "query",
    [
        "/fhir/MedicationKnowledge?name=lenalidomide&name=revlimid",
        "/fhir/MedicationKnowledge?_count=1&_count=2",
        "/fhir/Medication?identifier=HK-90203&identifier=HK-90101",
    ],
)
def test_a_repeated_search_parameter_is_a_400_operation_outcome(client, published_lenalidomide, query):
    # The REST API refuses a repeated parameter; FHIR answered with the last value only.
    outcome, _ = fetch(client, query, OperationOutcome, status=400)
    assert outcome.issue[0].code == "invalid"
    assert "at most once" in outcome.issue[0].diagnostics


def test_safety_flags_chinese_name_and_boxed_warning_are_in_the_medication_knowledge(client, published_lenalidomide):
    resource, body = fetch(client, f"/fhir/MedicationKnowledge/{published_lenalidomide.pk}", MedicationKnowledge)
    safety = next(c for c in body["medicineClassification"] if c["type"]["text"] == "Safety flags")
    assert [c["coding"][0]["code"] for c in safety["classification"]] == [
        "pregnancy",
        "pregnancy_prevention",
        "cytotoxic",
    ]
    assert body["synonym"][0] == "來那度胺"
    assert body["synonym"].count("來那度胺") == 1
    (extension,) = body["extension"]
    assert extension["url"].endswith("/StructureDefinition/boxed-warning")
    assert "pregnancy" in extension["valueString"]


def test_chinese_text_is_a_zh_hant_attachment_and_chinese_strings_use_the_translation_extension(
    client, published_bilingual_lenalidomide
):
    entry = published_bilingual_lenalidomide
    resource, body = fetch(client, f"/fhir/MedicationKnowledge/{entry.pk}", MedicationKnowledge)

    def translation_of(element):
        (extension,) = element["extension"]
        assert extension["url"] == "http://hl7.org/fhir/StructureDefinition/translation"
        parts = {part["url"]: part for part in extension["extension"]}
        assert parts["lang"]["valueCode"] == "zh-Hant"
        return parts["content"]["valueString"]

    assert translation_of(body["code"]["_text"]) == "來那度胺"
    assert resource.code.text__ext.extension[0].url == "http://hl7.org/fhir/StructureDefinition/translation"
    (boxed,) = body["extension"]
    assert translation_of(boxed["_valueString"]).startswith("懷孕期間不可使用")
    assert "雷利竇邁" in resource.synonym

    documents = {d["type"]["coding"][0]["code"]: d for d in body["contained"]}
    contraindications = documents["contraindications"]["content"]
    assert [c["attachment"]["language"] for c in contraindications] == ["en", "zh-Hant"]
    chinese = base64.b64decode(contraindications[1]["attachment"]["data"]).decode("utf-8")
    assert chinese.startswith("懷孕期間絕對不可使用本藥")
    assert contraindications[1]["attachment"]["title"] == "禁忌症"
    assert translation_of(documents["contraindications"]["_description"]) == "禁忌症"
    # An untranslated section has the English attachment only.
    assert [c["attachment"]["language"] for c in documents["mechanism"]["content"]] == ["en"]

    revlimid_5mg = Strength.objects.get(product__name="Revlimid", amount=5)
    medication, body = fetch(client, f"/fhir/Medication/{revlimid_5mg.pk}", Medication)
    assert translation_of(body["code"]["_text"]) == "瑞復美 5 mg"


def test_control_characters_of_a_published_edition_are_left_out_of_fhir(client, edition_predating_the_text_rule):
    import json
    import re

    entry = edition_predating_the_text_rule
    controls = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    _resource, body = fetch(client, f"/fhir/MedicationKnowledge/{entry.pk}", MedicationKnowledge)
    text = json.dumps(body, ensure_ascii=False)
    assert "Amoxicillin" in text and "Dosing(from the PDF)" in text
    assert not controls.search(text)


def test_a_dose_section_is_the_administration_guidelines(client, editor, reviewer):
    entry = publish(
        make_entry(
            "Warfarin",
            user=editor,
            sections=[
                ("overview", "", "An anticoagulant."),
                ("dose", "", "Take at the same time each evening."),
                ("counselling", "", "Carry the anticoagulant card."),
            ],
            products=[one_product("Warfarin")],
        ),
        editor=editor,
        reviewer=reviewer,
    )

    resource, body = fetch(client, f"/fhir/MedicationKnowledge/{entry.pk}", MedicationKnowledge)

    (guideline,) = resource.administrationGuidelines
    (dosage,) = guideline.dosage
    assert dosage.type.text == "Dose and administration"
    assert dosage.type.coding[0].code == "dose"
    assert [d.text for d in dosage.dosage] == ["Take at the same time each evening."]
    # Counselling points stay a monograph document of their own kind.
    kinds = {doc["type"]["coding"][0]["code"] for doc in body["contained"]}
    assert kinds == {"overview", "dose", "counselling"}
