"""The glossary of Chinese pharmacy terms and the "chinese_terms" content check that reads it."""

import re

import pytest

from monographs import checks, glossary
from monographs.demo import CHINESE_DEFAULTS, CHINESE_SEED_PATH, DRUG_CLASS, DRUG_CLASS_ZH


def content(**fields):
    base = {
        "generic_name": "Lenalidomide",
        "drug_class": "Immunomodulatory imide drug",
        "drug_class_zh": "",
        "chinese_name": "來那度胺",
        "boxed_warning": "",
        "boxed_warning_zh": "",
        "sections": [],
        "products": [],
    }
    return {**base, **fields}


def section(body_zh, body="Lenalidomide is an immunomodulatory imide drug."):
    return {"kind": "mechanism", "heading": "", "heading_zh": "", "body": body, "body_zh": body_zh, "position": 10}


def term_findings(snapshot):
    return [f for f in checks.check_content(snapshot) if f.code == checks.CHINESE_TERMS]


def test_the_check_flags_imine_for_an_imide_drug_and_names_the_right_term():
    found = term_findings(content(sections=[section("來那度胺屬免疫調節亞胺類藥物。")]))
    assert len(found) == 1
    assert "醯亞胺" in found[0].message and "「亞胺」" in found[0].message


def test_a_term_named_in_quotes_is_a_mention_not_a_use():
    assert glossary.misuses([("note", "「亞胺」是 imine")], english="imide") == []
    assert [m.found for m in glossary.misuses([("note", "屬亞胺類")], english="imide")] == ["亞胺"]


def test_imide_written_as_imide_passes_and_imine_in_an_imine_drug_passes():
    assert term_findings(content(sections=[section("來那度胺屬免疫調節醯亞胺類藥物。")])) == []
    imine = content(drug_class="Schiff base", sections=[section("本品含亞胺結構。", body="A Schiff base (an imine).")])
    assert term_findings(imine) == []


@pytest.mark.parametrize(
    ("wrong", "right"),
    [("懷孕預防計劃", "預防懷孕計劃"), ("膠囊有不同強度", "含量"), ("來那度胺仿製藥", "非專利藥")],
)
def test_the_check_flags_each_rejected_variant(wrong, right):
    found = term_findings(content(boxed_warning_zh=wrong))
    assert found and right in found[0].message


def test_the_demo_text_passes_the_glossary_check():
    text = CHINESE_SEED_PATH.read_text(encoding="utf-8")
    texts = [("seed", text), ("boxed warning", CHINESE_DEFAULTS["boxed_warning_zh"]), ("class", DRUG_CLASS_ZH)]
    assert glossary.misuses(texts, english=DRUG_CLASS) == []


def test_the_interface_uses_the_glossary_terms():
    """The interface's own Chinese (locale/zh_Hant) uses no spelling the glossary rejects."""
    from django.conf import settings

    po = (settings.BASE_DIR / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    msgstrs = "\n".join(re.findall(r'^msgstr "(.*)"$', po, re.MULTILINE))
    assert [m.found for m in glossary.misuses([("po", msgstrs)], english="imide")] == []
    assert glossary.term("strength") in msgstrs and glossary.term("pregnancy prevention programme") in msgstrs


@pytest.mark.django_db
def test_the_demo_entry_passes_the_glossary_check():
    from monographs.demo import load_lenalidomide
    from monographs.snapshots import snapshot_of_revision
    from monographs.working_copy import latest_revision

    entry = load_lenalidomide(chinese=True)
    snapshot = snapshot_of_revision(latest_revision(entry), entry.pk)
    assert snapshot["drug_class_zh"] == DRUG_CLASS_ZH
    assert term_findings(snapshot) == []
