"""Word-level comparison a reviewer reads."""

from monographs.diffing import compare, word_diff


def test_added_and_removed_words_are_marked():
    html = str(word_diff("Store in a cool, dry place.", "Store in a refrigerated place."))
    assert "<del>cool, dry</del>" in html.replace("</del><del>", "")
    assert "<ins>refrigerated</ins>" in html
    assert html.startswith("Store in a ")


def test_chinese_is_compared_character_by_character():
    html = str(word_diff("每日服用一次", "每日服用兩次"))
    assert html == "每日服用<del>一</del><ins>兩</ins>次"


def test_markup_in_text_is_escaped_not_rendered():
    html = str(word_diff("safe", "<script>alert(1)</script> safe"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def snapshot(**overrides):
    base = {
        "id": 1,
        "generic_name": "Lenalidomide",
        "slug": "lenalidomide",
        "synonyms": "",
        "drug_class": "IMiD",
        "atc_code": "",
        "sections": [{"id": 10, "kind": "storage", "heading": "", "position": 1, "body": "Keep dry."}],
        "products": [
            {
                "id": 20,
                "name": "Revlimid",
                "kind": "brand",
                "certificate_holder": "BMS",
                "legal_classification": "p1s1s3",
                "sale_requirement": "prescription",
                "formulary_status": "special",
                "notes": "",
                "strengths": [
                    {
                        "id": 30,
                        "amount": "5",
                        "unit": "mg",
                        "per_amount": None,
                        "per_unit": "",
                        "dosage_form": "capsule",
                        "route": "oral",
                        "appearance": "white",
                        "pack_size": "21 capsules",
                        "registration_number": "HK-12345",
                    }
                ],
            }
        ],
    }
    base.update(overrides)
    return base


def test_compare_reports_changed_sections_products_and_strengths():
    old = snapshot()
    new = snapshot(drug_class="Immunomodulator")
    new["sections"] = [
        dict(old["sections"][0], body="Keep cold."),
        {"id": 11, "kind": "uses", "heading": "", "position": 2, "body": "Myeloma."},
    ]
    new["products"][0]["strengths"][0]["appearance"] = "blue"

    fields, sections, products = compare(old, new)

    assert [name for name, _ in fields] == ["drug_class"]
    assert [(c.label, c.status) for c in sections] == [
        ("Storage and duration", "changed"),
        ("Uses and indications", "added"),
    ]
    assert products[0].status == "changed"
    strength = products[0].children[0]
    assert strength.label == "5 mg capsule" and strength.status == "changed"
    assert [name for name, _ in strength.fields] == ["appearance"]


def test_compare_against_nothing_marks_everything_added():
    fields, sections, products = compare(None, snapshot())
    assert all(c.status == "added" for c in sections + products)


def test_removed_product_is_reported():
    old = snapshot()
    new = snapshot(products=[])
    _, _, products = compare(old, new)
    assert [(c.label, c.status) for c in products] == [("Revlimid", "removed")]
