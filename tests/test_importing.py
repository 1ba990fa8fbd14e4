"""The plain-text importer: what a pharmacist pastes in comes out as ordered
sections, nothing is lost, and bad files are refused with a reason.

Pure functions only; no database.
"""

import pytest

from monographs.importing import (
    OTHER_HEADING,
    MonographTextError,
    decode_text,
    lines_introducing_no_list,
    parse_monograph,
    parse_translation,
)

from .factories import SEED, SEED_KINDS


@pytest.fixture(scope="module")
def seed_text():
    return decode_text(SEED.read_bytes())


@pytest.fixture(scope="module")
def seed(seed_text):
    return parse_monograph(seed_text, generic_name="Lenalidomide")


def kinds(parsed):
    return [section.kind for section in parsed.sections]


def section_of(parsed, kind):
    (section,) = [s for s in parsed.sections if s.kind == kind]
    return section


# The seed monograph


def test_seed_parses_into_the_expected_sections_in_reading_order(seed):
    assert kinds(seed) == SEED_KINDS
    assert all(section.heading == "" for section in seed.sections)


def test_seed_loses_no_paragraph(seed_text, seed):
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    assert len(lines) == 15
    assert seed.paragraph_count == 15
    for line in lines:
        assert any(line in section.body for section in seed.sections), f"lost: {line[:60]}"
    # Each paragraph is kept once, as a paragraph of its own.
    paragraphs = [p for section in seed.sections for p in section.body.split("\n\n")]
    assert paragraphs == lines


def test_seed_list_without_items_is_reported_with_its_line(seed):
    assert len(seed.warnings) == 1
    warning = seed.warnings[0]
    assert "Line 7" in warning
    assert "indicated for:" in warning
    # The introducing line is kept, in the uses section.
    assert "this substance is indicated for:" in section_of(seed, "uses").body


# Layout of the text


def test_hard_wrapped_paragraphs_separated_by_blank_lines_are_joined():
    text = (
        "Lenalidomide is an oral medicine\n"
        "that doctors use for certain blood\n"
        "cancers.\n"
        "\n"
        "Patients often notice fatigue\n"
        "and mild nausea during the first\n"
        "weeks of use.\n"
    )
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert kinds(parsed) == ["overview", "side_effects"]
    assert section_of(parsed, "overview").body == (
        "Lenalidomide is an oral medicine that doctors use for certain blood cancers."
    )
    assert section_of(parsed, "side_effects").body == (
        "Patients often notice fatigue and mild nausea during the first weeks of use."
    )
    assert parsed.paragraph_count == 2
    assert parsed.warnings == []


def test_hard_wrapped_paragraph_wrapped_at_a_full_stop_stays_one_paragraph():
    text = (
        "Patients often notice fatigue and mild nausea.\n"
        "Some also report a rash in the\n"
        "first weeks.\n"
        "\n"
        "Store below 25 degrees, away from sunlight.\n"
    )
    parsed = parse_monograph(text)
    assert section_of(parsed, "side_effects").body == (
        "Patients often notice fatigue and mild nausea. Some also report a rash in the first weeks."
    )
    assert parsed.paragraph_count == 2


def test_hard_wrapped_text_with_every_line_ending_at_a_full_stop_keeps_its_paragraphs():
    # Sentence-per-line writing inside blank-line-separated paragraphs.
    text = (
        "Lenalidomide is an oral medicine.\n"
        "It is taken once a day.\n"
        "\n"
        "Patients often notice fatigue.\n"
        "Some also report mild nausea.\n"
        "\n"
        "Store below 25 degrees.\n"
        "Keep away from sunlight.\n"
    )
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert kinds(parsed) == ["overview", "side_effects", "storage"]
    assert section_of(parsed, "overview").body == "Lenalidomide is an oral medicine. It is taken once a day."
    assert section_of(parsed, "side_effects").body == "Patients often notice fatigue. Some also report mild nausea."
    assert section_of(parsed, "storage").body == "Store below 25 degrees. Keep away from sunlight."
    assert parsed.paragraph_count == 3
    assert all(section.heading == "" for section in parsed.sections)


def test_heading_line_in_hard_wrapped_text_ends_the_paragraph_before_it():
    text = (
        "Patients often notice fatigue and\n"
        "mild nausea.\n"
        "Storage\n"
        "Keep the capsules in the original\n"
        "pack.\n"
        "\n"
        "Return unused capsules to the pharmacy.\n"
    )
    parsed = parse_monograph(text)
    assert kinds(parsed)[:2] == ["side_effects", "storage"]
    assert section_of(parsed, "side_effects").body == "Patients often notice fatigue and mild nausea."
    assert section_of(parsed, "storage").body.startswith("Keep the capsules in the original pack.")
    assert "Storage" not in " ".join(s.body for s in parsed.sections)


def test_hard_wrapped_list_items_and_their_indented_continuations():
    text = (
        "Beyond its role in myeloma, this substance\n"
        "is indicated for:\n"
        "- myelodysplastic syndromes with a\n"
        "  deletion 5q abnormality\n"
        "- mantle cell lymphoma\n"
        "\n"
        "Patients often notice fatigue.\n"
    )
    parsed = parse_monograph(text)
    assert kinds(parsed) == ["uses", "side_effects"]
    assert section_of(parsed, "uses").body == (
        "Beyond its role in myeloma, this substance is indicated for:\n"
        "\n"
        "- myelodysplastic syndromes with a deletion 5q abnormality\n"
        "- mantle cell lymphoma"
    )
    assert parsed.warnings == []


def test_empty_list_warning_names_the_line_that_ends_with_the_colon():
    text = (
        "Lenalidomide is an oral medicine.\n"
        "\n"
        "Beyond its role in myeloma,\n"
        "this substance is\n"
        "indicated for:\n"
        "\n"
        "Patients often notice fatigue.\n"
    )
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert len(parsed.warnings) == 1
    assert parsed.warnings[0].startswith("Line 5 introduces a list")
    assert "indicated for:" in parsed.warnings[0]


@pytest.mark.parametrize("marker", ["- ", "* ", "• ", "1. "])
def test_list_items_join_the_section_of_the_paragraph_before_them(marker):
    text = (
        "Lenalidomide modulates immune system activity.\n"
        "Beyond its role in myeloma, this substance is indicated for:\n"
        f"{marker}myelodysplastic syndromes\n"
        f"{marker}mantle cell lymphoma\n"
        "Patients often notice fatigue.\n"
    )
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert kinds(parsed) == ["overview", "uses", "side_effects"]
    assert section_of(parsed, "uses").body == (
        "Beyond its role in myeloma, this substance is indicated for:\n"
        "\n"
        "- myelodysplastic syndromes\n"
        "- mantle cell lymphoma"
    )
    # The items really follow the introducing line, so there is nothing to warn about.
    assert parsed.warnings == []
    # Items are not counted as paragraphs.
    assert parsed.paragraph_count == 3


def test_mixed_list_markers_form_one_list():
    text = "This substance is indicated for:\n- myeloma\n* lymphoma\n• anaemia\n2. amyloidosis\n"
    parsed = parse_monograph(text)
    assert section_of(parsed, "uses").body == (
        "This substance is indicated for:\n\n- myeloma\n- lymphoma\n- anaemia\n- amyloidosis"
    )
    assert parsed.warnings == []


def test_text_after_a_list_is_a_paragraph_of_its_own():
    text = "This substance is indicated for:\n- myeloma\n- lymphoma\nIt is also used to treat anaemia.\n"
    parsed = parse_monograph(text)
    assert kinds(parsed) == ["uses"]
    assert section_of(parsed, "uses").body == (
        "This substance is indicated for:\n\n- myeloma\n- lymphoma\n\nIt is also used to treat anaemia."
    )


def test_hyphenated_or_numeric_text_is_not_taken_for_a_list_item():
    parsed = parse_monograph("-20 degrees is too cold for storage.\n2.5 mg capsules are stored dry.\n")
    bodies = " ".join(section.body for section in parsed.sections)
    assert "- " not in bodies
    assert parsed.paragraph_count == 2


# Section kinds


@pytest.mark.parametrize("separator", ["\n\n", "\n"], ids=["blank line after heading", "heading on its own line"])
@pytest.mark.parametrize(
    "heading, kind",
    [("Side effects", "side_effects"), ("Storage:", "storage"), ("OVERVIEW", "overview")],
)
def test_heading_line_sets_the_kind_of_the_following_paragraph(heading, kind, separator):
    # The paragraph alone would be read as something else (or nothing).
    paragraph = "Some people feel tired in the first weeks."
    parsed = parse_monograph(f"{heading}{separator}{paragraph}\n")
    assert kinds(parsed) == [kind]
    # The heading line is not part of the text.
    assert parsed.sections[0].body == paragraph
    assert parsed.paragraph_count == 1


def test_unrecognisable_paragraph_goes_to_other_with_a_heading():
    text = "Lenalidomide is an oral medicine.\nThe quick brown fox jumps over the lazy dog.\n"
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert kinds(parsed) == ["overview", "other"]
    other = section_of(parsed, "other")
    assert other.heading == OTHER_HEADING
    assert other.heading.strip()
    assert other.body == "The quick brown fox jumps over the lazy dog."


def test_chinese_paragraph_is_kept_intact():
    chinese = "來那度胺是一種免疫調節藥物，用於治療多發性骨髓瘤。請勿在懷孕期間服用。"
    text = f"Lenalidomide is an oral medicine.\n{chinese}\n"
    parsed = parse_monograph(text, generic_name="Lenalidomide")
    assert parsed.paragraph_count == 2
    assert [p for s in parsed.sections for p in s.body.split("\n\n")] == [
        "Lenalidomide is an oral medicine.",
        chinese,
    ]
    # Not recognised, so it gets a heading of its own rather than being dropped.
    assert section_of(parsed, "other").heading == OTHER_HEADING


def test_hard_wrapped_chinese_is_joined_without_a_space():
    parsed = parse_monograph("來那度胺是一種免疫調節藥物，\n用於治療多發性骨髓瘤。\n")
    assert parsed.sections[0].body == "來那度胺是一種免疫調節藥物，用於治療多發性骨髓瘤。"


def test_hard_wrapped_chinese_in_blank_line_paragraphs_is_joined_without_a_space():
    text = "來那度胺是一種免疫調節\n藥物。用於治療多發性\n骨髓瘤。\n\n請勿在懷孕期間\n服用。\n"
    parsed = parse_monograph(text)
    paragraphs = [p for s in parsed.sections for p in s.body.split("\n\n")]
    assert paragraphs == ["來那度胺是一種免疫調節藥物。用於治療多發性骨髓瘤。", "請勿在懷孕期間服用。"]
    assert parsed.paragraph_count == 2


@pytest.mark.parametrize(
    "lines, joined",
    [
        ("This medicine is called\n來那度胺.", "This medicine is called來那度胺."),
        ("來那度胺\nis an oral medicine.", "來那度胺is an oral medicine."),
        ("Lenalidomide is an oral\nmedicine.", "Lenalidomide is an oral medicine."),
        ("Korean keeps its spaces: 레날리도마이드\n복용.", "Korean keeps its spaces: 레날리도마이드 복용."),
    ],
    ids=["latin-then-chinese", "chinese-then-latin", "latin", "hangul"],
)
def test_wrapped_lines_take_a_space_only_between_words_of_spaced_scripts(lines, joined):
    parsed = parse_monograph(lines + "\n\nStore below 25 degrees.\n")
    assert parsed.sections[0].body == joined


# Decoding the file


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty"),
        (b"   \n\t\r\n  ", "empty"),
        ("\ufeff \n".encode(), "empty"),
        ("\u3000\n".encode(), "empty"),
        (b"PK\x03\x04\x00\x00binary\x00", "binary"),
        ("Lenalidomide".encode("utf-16"), "UTF-16"),
        ("來那度胺是一種免疫調節藥物".encode("big5"), "not valid UTF-8"),
        ("Lénalidomide".encode("latin-1"), "not valid UTF-8"),
    ],
    ids=["empty", "whitespace", "bom-only", "ideographic-space", "nul-bytes", "utf-16", "big5", "latin-1"],
)
def test_decode_text_refuses_what_is_not_a_text_monograph(raw, message):
    with pytest.raises(MonographTextError) as exc_info:
        decode_text(raw)
    assert message in str(exc_info.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_decode_text_recognises_utf16_by_its_byte_order_mark(encoding):
    raw = "來那度胺 Lenalidomide\n".encode(encoding)
    if encoding != "utf-16":  # the plain codec writes the BOM itself
        raw = ("\ufeff" + "來那度胺 Lenalidomide\n").encode(encoding)
    with pytest.raises(MonographTextError) as exc_info:
        decode_text(raw)
    assert str(exc_info.value) == "The file is UTF-16; save it as UTF-8 and try again."


def test_decode_text_recognises_utf32():
    with pytest.raises(MonographTextError, match="UTF-32; save it as UTF-8"):
        decode_text("Lenalidomide\n".encode("utf-32"))


def test_decode_text_says_where_the_bad_byte_is_and_what_to_do():
    with pytest.raises(MonographTextError) as exc_info:
        decode_text("Lénalidomide".encode("latin-1"))
    message = str(exc_info.value)
    assert "byte 1" in message
    assert "save it as UTF-8" in message


def test_decode_text_accepts_utf8_with_bom_and_drops_the_bom():
    text = "Lenalidomide 來那度胺 is an oral medicine.\n"
    decoded = decode_text(b"\xef\xbb\xbf" + text.encode())
    assert decoded == text
    parsed = parse_monograph(decoded, generic_name="Lenalidomide")
    assert kinds(parsed) == ["overview"]
    assert parsed.sections[0].body == text.strip()


def test_decode_text_accepts_plain_utf8(seed_text):
    assert seed_text.startswith("Lenalidomide modulates")
    assert "body’s" in seed_text


def test_the_content_checks_find_the_same_empty_list_as_the_importer(seed_text, seed):
    # One definition (importing.lines_introducing_no_list) serves the import warning and checks.py.
    assert lines_introducing_no_list(seed_text) == [(7, "Beyond its role in myeloma, this substance is indicated for:")]
    assert seed.warnings[0].startswith("Line 7 introduces a list")
    assert lines_introducing_no_list("Uses:\nKeep it cold.\n\nIndicated for:\n\n- myeloma") == []


def test_parse_translation_splits_on_heading_lines_and_keeps_lists():
    from monographs.importing import parse_translation
    from monographs.services import section_kind_headings

    text = "概覽：\n第一段。\n\n第二段。\n\n# 其他資料\n以下情況應求醫：\n- 氣促\n- 胸口痛\n副作用\n-\n"
    overview, other, side_effects = parse_translation(text, kind_headings=section_kind_headings())
    assert (overview.kind, overview.body) == ("overview", "第一段。\n\n第二段。")
    assert (other.kind, other.heading, other.body) == (None, "其他資料", "以下情況應求醫：\n\n- 氣促\n- 胸口痛")
    assert side_effects.kind == "side_effects" and side_effects.untranslated and side_effects.body == ""


def test_parse_translation_refuses_text_before_the_first_heading():
    from monographs.importing import MonographTextError, parse_translation
    from monographs.services import section_kind_headings

    with pytest.raises(MonographTextError, match="Line 1 comes before the first heading"):
        parse_translation("前言。\n副作用\n疲倦。\n", kind_headings=section_kind_headings())


# Control characters and text-direction overrides are refused, naming the line.


@pytest.mark.parametrize(
    ("text", "where", "character"),
    [
        ("Lenalidomide is a drug.\nStore below 25 °C\x0b in the pack.\n", "Line 2, character 18", "U+000B"),
        ("Side effects: rash\x07.\n", "Line 1, character 19", "U+0007 (BELL)"),
        ("\x1b[31mLenalidomide\n", "Line 1, character 1", "U+001B (ESCAPE)"),
        ("Take daily\x85 with water.\n", "Line 1, character 11", "U+0085"),
        ("Lenalidomide\u202e is a drug.\n", "Line 1, character 13", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("Lenalidomide\n\nis\u2066 a drug.\n", "Line 3, character 3", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ],
)
def test_control_characters_are_refused_with_their_line(text, where, character):
    with pytest.raises(MonographTextError) as exc_info:
        parse_monograph(text, generic_name="Lenalidomide")
    message = str(exc_info.value)
    assert message.startswith(f"{where}: the invisible character {character}")
    assert "nothing was imported" in message


def test_the_chinese_text_is_checked_too():
    with pytest.raises(MonographTextError, match=r"Line 2, character 3: the invisible character U\+0007"):
        parse_translation("副作用\n疲倦\x07及皮疹。\n", kind_headings={"副作用": "side_effects"})


def test_variation_selectors_tabs_and_line_breaks_are_ordinary_text():
    # U+E0100 picks the HKSCS glyph of a Hong Kong name (Ideographic Variation Database).
    parsed = parse_monograph("葛\U000e0100根湯 is a medicine.\r\nTake\tdaily.\n", generic_name="葛\U000e0100根湯")
    assert "葛\U000e0100根湯" in parsed.sections[0].body
    assert parse_translation("葛\U000e0100根湯\n", kind_headings={})[0].body == "葛\U000e0100根湯"


# --- Dose and counselling points, from wording or a heading ---------------------------------


@pytest.mark.parametrize(
    ("paragraph", "kind"),
    [
        ("Swallow the capsules whole with water, once daily, with or without food.", "dose"),
        ("The usual dose is 25 mg on days 1 to 21 of each 28-day cycle.", "dose"),
        ("If a dose is missed, take it within 12 hours; otherwise skip it.", "dose"),
        ("Advise patients to use effective contraception and not to donate blood.", "counselling"),
        ("Counselling: tell the patient not to share the capsules with anyone.", "counselling"),
    ],
)
def test_dose_and_counselling_paragraphs_are_classified_from_their_wording(paragraph, kind):
    parsed = parse_monograph(paragraph)

    assert [section.kind for section in parsed.sections] == [kind]


def test_dose_and_counselling_heading_lines_set_the_kind():
    text = "Dosage and administration\nOne tablet at night.\n\nPatient counselling\nCarry the card.\n"

    parsed = parse_monograph(text)

    assert [section.kind for section in parsed.sections] == ["dose", "counselling"]


def test_the_seed_keeps_its_storage_section_despite_mentioning_dosing():
    # Its storage paragraph ends "For detailed usage, dosing, and administration, refer to ...".
    parsed = parse_monograph(SEED.read_text(encoding="utf-8"), generic_name="Lenalidomide")

    assert "dose" not in [section.kind for section in parsed.sections]
