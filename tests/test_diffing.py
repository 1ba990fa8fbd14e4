"""Word-level comparison a reviewer reads."""

import re
import time

from bench.diff_timing import chinese_bodies, sample_bodies, section_snapshot
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


def test_removed_and_added_words_stay_apart_in_the_text():
    # A diff of "21" to "7" once read "<del>21</del><ins>7</ins>" as "217 capsules".
    assert str(word_diff("21 capsules", "7 capsules")) == "<del>21</del> <ins>7</ins> capsules"
    assert (
        str(word_diff("Take 1 tablet", "Take 2 tablets"))
        == "Take <del>1</del> <ins>2</ins> <del>tablet</del> <ins>tablets</ins>"
    )


def changed_characters(html):
    return sum(len(text) for text in re.findall(r"<(?:del|ins)>(.*?)</(?:del|ins)>", html, re.S))


def test_compare_of_two_10000_word_sections_is_fast_and_still_word_by_word(capsys):
    # This took 51 s in word_diff alone (quadratic), past the 30 s server timeout.
    old, new = sample_bodies(words=10_000, changed=0.02)

    start = time.perf_counter()
    _fields, sections, _products = compare(section_snapshot(old), section_snapshot(new))
    seconds = time.perf_counter() - start

    with capsys.disabled():
        print(f"\n  compare of two 10,000-word sections: {seconds * 1000:.0f} ms")
    assert seconds < 5  # about 0.03 s; generous so a busy machine cannot fail it
    [(name, html)] = sections[0].fields
    assert name == "body"
    # 2 % of the words changed: the changes are marked word by word, not as whole paragraphs.
    assert 0 < changed_characters(str(html)) < 0.05 * (len(old) + len(new))


def test_long_text_without_line_breaks_and_long_chinese_text_are_fast_too():
    start = time.perf_counter()
    for old, new in [sample_bodies(10_000, 0.02, line_breaks=False), chinese_bodies(30_000, 0.02)]:
        html = str(word_diff(old, new))
        assert 0 < changed_characters(html) < 0.05 * (len(old) + len(new))
    assert time.perf_counter() - start < 5


def test_chinese_in_a_long_text_is_still_compared_character_by_character():
    old, new = chinese_bodies(30_000, 0)
    new = new[:15_000] + "兩" + new[15_001:]
    html = str(word_diff(old, new))
    assert f"<del>{old[15_000]}</del><ins>兩</ins>" in html
    assert changed_characters(html) == 2


def test_markup_in_a_long_text_is_escaped_not_rendered():
    old, _ = sample_bodies(10_000, 0)
    middle = old.index("\n\n", 30_000) + 2
    html = str(word_diff(old, old[:middle] + "<script>alert(1)</script> " + old[middle:]))
    assert "<script>" not in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt; </ins>" in html


def test_unrelated_long_texts_are_compared_in_bounded_time():
    start = time.perf_counter()
    word_diff(sample_bodies(10_000, 0, seed=1)[0], sample_bodies(10_000, 0, seed=2)[0])
    assert time.perf_counter() - start < 5


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


def test_change_summary_names_what_changed_as_a_pharmacist_reads_it():
    from monographs.diffing import change_summary

    strength = {
        "id": 7,
        "amount": "10",
        "unit": "mg",
        "per_amount": None,
        "per_unit": "",
        "dosage_form": "capsule",
        "route": "oral",
        "appearance": "white capsule",
        "pack_size": "21 capsules",
        "registration_number": "HK-10001",
    }
    product = {
        "id": 3,
        "name": "Revlimid",
        "kind": "brand",
        "certificate_holder": "BMS",
        "legal_classification": "p1s1s3",
        "sale_requirement": "prescription",
        "formulary_status": "general",
        "notes": "",
        "strengths": [strength],
    }
    old = {
        "generic_name": "Lenalidomide",
        "high_alert": False,
        "sections": [{"id": 1, "kind": "overview", "heading": "", "position": 10, "body": "Old."}],
        "products": [product],
    }
    new = {
        **old,
        "high_alert": True,
        "sections": [
            {**old["sections"][0], "body": "New."},
            {"id": 2, "kind": "storage", "heading": "", "position": 20, "body": "Cool."},
        ],
        "products": [{**product, "strengths": [{**strength, "pack_size": "7 capsules"}]}],
    }

    summary = change_summary(old, new)

    assert summary.changed == ["high-alert medication", "Overview", "Revlimid 10 mg capsule"]
    assert summary.added == ["Storage and duration"]
    assert summary.removed == []
    assert not change_summary(new, new)
    assert change_summary(new, old).removed == ["Storage and duration"]


def test_chinese_fields_are_compared_character_by_character():
    from monographs.diffing import FieldChange

    change = FieldChange("body_zh", "每日服用10毫克一次。", "每日服用15毫克兩次。", model=None)
    # Digits stay one token, but never swallow the Chinese characters after them.
    # (A space keeps "10" and "15" apart in the page's text, as between English words.)
    assert str(change[1]) == "每日服用<del>10</del> <ins>15</ins>毫克<del>一</del><ins>兩</ins>次。"
    # The same text as an English field would be one run from the digits on: the whole tail replaced.
    english = FieldChange("body", "每日服用10毫克一次。", "每日服用15毫克兩次。", model=None)
    assert "<del>10毫克一次</del>" in str(english[1])


def test_translation_bookkeeping_is_not_a_change_and_a_status_change_is_one_row():
    from monographs.diffing import compare
    from monographs.models import english_fingerprint

    section = {"id": 1, "kind": "overview", "heading": "", "position": 10, "body": "New English."}
    stale = {**section, "body_zh": "中文。", "zh_source": english_fingerprint("", "Old English.")}
    checked = {**section, "body_zh": "中文。", "zh_source": english_fingerprint("", "New English.")}
    _fields, (change,), _products = compare(
        {"sections": [stale], "products": []}, {"sections": [checked], "products": []}
    )
    assert [(f.name, str(f.label)) for f in change.fields] == [("chinese_translation", "Chinese translation")]
    assert (str(change.fields[0]._values[0]), str(change.fields[0]._values[1])) == (
        "outdated: the English changed since",
        "up to date",
    )
    # An edition made before the Chinese fields existed compares as empty Chinese, not as a change.
    _fields, (same,), _products = compare(
        {"sections": [section], "products": []}, {"sections": [{**section, "body_zh": ""}], "products": []}
    )
    assert same.status == "same"
