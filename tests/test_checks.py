"""Content checks (monographs/checks.py): one test per kind of finding on plain snapshot
dicts, the levels from the settings, and the seed's empty list found on the demo entry."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from monographs import checks, workflow

FULL_SECTIONS = [
    ("overview", "", "Examplamab is a monoclonal antibody."),
    ("uses", "", "It is indicated for:\n\n- plaque psoriasis\n- psoriatic arthritis"),
    ("side_effects", "", "Injection-site reactions are common."),
    ("contraindications", "", "Do not use with an active serious infection."),
    ("storage", "", "Store in a refrigerator at 2 °C to 8 °C; do not freeze."),
]


def strength(amount="10", registration_number="HK-10001", **fields):
    return {
        "amount": amount,
        "unit": "mg",
        "per_amount": None,
        "per_unit": "",
        "dosage_form": "tablet",
        "route": "oral",
        "registration_number": registration_number,
        **fields,
    }


def content(sections=FULL_SECTIONS, products=(), **fields):
    """A snapshot as `snapshots.snapshot_of_revision` shapes it."""
    return {
        "id": 1,
        "generic_name": "Examplamab",
        "boxed_warning": "",
        **fields,
        "sections": [
            {"id": n, "kind": kind, "heading": heading, "position": n * 10, "body": body}
            for n, (kind, heading, body) in enumerate(sections, start=1)
        ],
        "products": [
            {"id": n, "name": name, "kind": "generic", "legal_classification": "p1s1s3", "strengths": strengths}
            for n, (name, strengths) in enumerate(products, start=1)
        ],
    }


def replaced(kind, body, sections=FULL_SECTIONS):
    return [(k, heading, body if k == kind else b) for k, heading, b in sections]


def found(snapshot, code):
    return [finding for finding in checks.check_content(snapshot) if finding.code == code]


def test_a_complete_monograph_has_no_findings():
    products = [("Examplamab 10 mg", [strength("10"), strength("20", "HK-10002")])]
    assert checks.check_content(content(products=products)) == []


@pytest.mark.parametrize(
    "body", ["   ", "\n\n", "- ", "\u00a0"], ids=["spaces", "blank-lines", "empty-item", "no-break-space"]
)
def test_an_empty_section_is_found(body):
    (finding,) = found(content(replaced("side_effects", body)), "empty_section")
    assert finding.where == "Side effects"
    assert "no text" in finding.message


def test_a_line_introducing_a_list_with_no_items_is_found():
    body = "Managing myeloma is the primary use.\n\nBeyond its role in myeloma, this substance is indicated for:"
    (finding,) = found(content(replaced("uses", body)), "empty_list")
    assert finding.where == "Uses and indications"
    assert "“Beyond its role in myeloma, this substance is indicated for:” introduces a list" in finding.message


@pytest.mark.parametrize(
    "body",
    [
        "Indicated for:\n- psoriasis\n- arthritis",
        "Indicated for:\n\n1. psoriasis",
        "Storage:\nKeep it cold.",  # a heading line, not a promise of a list
        "Indicated for psoriasis.",
    ],
)
def test_a_list_with_its_items_or_a_heading_is_not_an_empty_list(body):
    assert found(content(replaced("uses", body)), "empty_list") == []


def test_an_empty_list_in_chinese_is_found():
    assert found(content(replaced("uses", "本品適用於：")), "empty_list")


def test_a_missing_required_section_is_found(settings):
    sections = [section for section in FULL_SECTIONS if section[0] != "storage"]
    (finding,) = found(content(sections), "required_section")
    assert finding.where == "Storage and duration"
    assert "no “Storage and duration” section" in finding.message

    settings.FORMULARY_REQUIRED_SECTIONS = ["contraindications", "interactions"]
    assert [f.where for f in found(content(sections), "required_section")] == ["Interactions"]

    settings.FORMULARY_REQUIRED_SECTIONS = ["storge"]
    with pytest.raises(ImproperlyConfigured, match="storge"):
        checks.check_content(content())


def test_a_registered_product_with_an_unregistered_strength_is_found():
    products = [
        ("Examplamab tablets", [strength("10"), strength("20", "")]),
        ("Unregistered import", [strength("5", ""), strength("15", "")]),
    ]
    (finding,) = found(content(products=products), "unregistered_strength")
    assert finding.where == "Examplamab tablets"
    assert "The 20 mg tablet has no registration number" in finding.message


def test_a_repeated_paragraph_is_found_once_naming_where_it_first_appears():
    paragraph = "Alcohol consumption may exacerbate side effects like dizziness."
    sections = [
        *FULL_SECTIONS,
        ("interactions", "", f"{paragraph}\n\nNone known."),
        ("other", "Advice", f"Take it at night.\n\n{paragraph.upper()}\n\nNone known."),
    ]
    (finding,) = found(content(sections), "repeated_paragraph")
    assert finding.where == "Advice"
    assert "also in “Interactions”" in finding.message
    assert "alcohol consumption" in finding.message.lower()  # the short "None known." is not a finding


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("See [the leaflet](https://example.org/leaflet.pdf).", "Links are not shown as links"),
        ("See <https://example.org>.", "Links are not shown as links"),
        ("Take <b>one</b> capsule.", "HTML is not rendered: “<b>”"),
        ("Before <script>alert('x')</script> after", "HTML is not rendered"),
        ("## Dosing\n\nOnce daily.", "Headings inside a section are not rendered"),
        ("Take **one capsule daily.", "Unbalanced ** or __"),
        ("Take __one capsule daily.", "Unbalanced ** or __"),
    ],
)
def test_markup_that_does_not_render_is_found(body, words):
    findings = found(content(replaced("overview", body)), "unrendered_markup")
    assert findings and findings[0].where == "Overview"
    assert words in findings[0].message


@pytest.mark.parametrize(
    "body",
    [
        "Take **one** capsule *daily*.\n\n- with water\n- 2 < 3 > 1",
        "Dose: ____ mg",
        "Do not exceed 5 mg/kg (about 350 mg for a 70 kg adult).",
        "#1 choice in myeloma.",
    ],
)
def test_the_markdown_subset_and_plain_text_are_not_findings(body):
    assert found(content(replaced("overview", body)), "unrendered_markup") == []


def test_a_safety_flag_without_boxed_warning_text_is_found():
    (finding,) = found(content(pregnancy_warning=True, cytotoxic=True, boxed_warning="  "), "boxed_warning")
    assert finding.where == ""
    assert "(Harmful in pregnancy, Cytotoxic: handle as hazardous)" in finding.message
    assert found(content(high_alert=True, boxed_warning="Double-check every dose."), "boxed_warning") == []


def test_a_dangerous_drug_product_is_a_flag_that_needs_boxed_warning_text():
    products = [("Morphine tablets", [strength()])]
    snapshot = content(products=products)
    snapshot["products"][0]["legal_classification"] = "dangerous_drug"
    assert found(snapshot, "boxed_warning")


def test_levels_come_from_the_setting_blocking_first_and_off_skips(settings):
    sections = replaced("uses", "Indicated for:", [s for s in FULL_SECTIONS if s[0] != "storage"])
    assert [(f.code, f.level) for f in checks.check_content(content(sections))] == [
        ("required_section", "warning"),
        ("empty_list", "warning"),
    ]
    settings.FORMULARY_CONTENT_CHECKS = {**settings.FORMULARY_CONTENT_CHECKS, "empty_list": "blocking"}
    findings = checks.check_content(content(sections))
    assert [(f.code, f.blocking) for f in findings] == [("empty_list", True), ("required_section", False)]
    assert checks.blocking(findings) == findings[:1]

    settings.FORMULARY_CONTENT_CHECKS = {**settings.FORMULARY_CONTENT_CHECKS, "required_section": "off"}
    assert [f.code for f in checks.check_content(content(sections))] == ["empty_list"]


def test_a_check_the_setting_does_not_name_is_a_warning_and_a_typo_is_refused(settings):
    settings.FORMULARY_CONTENT_CHECKS = {}
    assert set(checks.levels().values()) == {"warning"}
    settings.FORMULARY_CONTENT_CHECKS = {"empty_list": "fatal"}
    with pytest.raises(ImproperlyConfigured, match="fatal"):
        checks.check_content(content())


def test_every_check_has_a_documented_default_and_only_empty_sections_block(settings):
    assert set(settings.FORMULARY_CONTENT_CHECKS) == set(checks.CODES)
    assert {code for code, level in settings.FORMULARY_CONTENT_CHECKS.items() if level == "blocking"} == {
        "empty_section"
    }


def test_findings_are_translated():
    with translation.override("zh-hant"):
        (finding,) = found(content(replaced("uses", "Indicated for:")), "empty_list")
        assert finding.level_label == "警告"
        assert "沒有列出項目" in finding.message
        assert finding.where == str(translation.gettext("Uses and indications"))


def test_the_seed_empty_list_is_found_on_the_demo_entry(lenalidomide):
    findings = workflow.submission_findings(lenalidomide)
    assert [(f.code, f.level, f.where) for f in findings] == [("empty_list", "warning", "Uses and indications")]
    assert "this substance is indicated for:" in findings[0].message


def test_the_demo_translation_leaves_one_section_without_chinese(bilingual_lenalidomide):
    findings = workflow.submission_findings(bilingual_lenalidomide)
    assert [(f.code, f.where) for f in findings if f.code == "chinese_translation"] == [
        ("chinese_translation", "How it works")
    ]
    assert findings[-1].message.startswith("No Chinese text")


def translated(snapshot, kind, chinese, english=None):
    """`snapshot` with the section of `kind` given Chinese text made from `english` (its own body by default)."""
    from monographs.models import english_fingerprint

    for section in snapshot["sections"]:
        if section["kind"] == kind:
            source = english if english is not None else section["body"]
            section.update(body_zh=chinese, zh_source=english_fingerprint(section["heading"], source))
    return snapshot


def test_an_entry_without_chinese_text_has_no_translation_finding():
    assert found(content(), "chinese_translation") == []


def test_stale_chinese_is_found_and_once_some_chinese_exists_missing_parts_too():
    snapshot = translated(content(), "overview", "示例單抗是一種單克隆抗體。", english="An older overview.")
    snapshot = translated(snapshot, "storage", "存放於雪櫃。")
    findings = [(f.where, f.message.split(":")[0]) for f in found(snapshot, "chinese_translation")]
    assert findings == [
        ("Overview", "The Chinese text was translated from older English"),
        ("Uses and indications", "No Chinese text"),
        ("Side effects", "No Chinese text"),
        ("Contraindications", "No Chinese text"),
    ]
