"""Pack sizes read as a count and a unit (monographs/packs.py), from strings as they are written
on Hong Kong packs and in the Drug Office's records, and written back in both languages."""

import importlib

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from monographs.packs import english_pack, pack_label, parse_pack
from monographs.vocabulary import PackUnit

READ = [
    ("21 capsules", 21, "capsule"),
    ("21 Capsules", 21, "capsule"),
    ("  21   capsules ", 21, "capsule"),
    ("1 capsule", 1, "capsule"),
    ("30 tablets", 30, "tablet"),
    ("28 film-coated tablets", 28, "tablet"),
    ("28 film coated tablets", 28, "tablet"),
    ("100 tabs", 100, "tablet"),
    ("14 hard capsules", 14, "capsule"),
    ("1 x 30 tablets", 30, "tablet"),
    ("10 sachets", 10, "sachet"),
    ("1 vial", 1, "vial"),
    ("5 ampoules", 5, "ampoule"),
    ("10 x ampoules", 10, "ampoule"),
    ("2 pre-filled syringes", 2, "syringe"),
    ("1 pre-filled pen", 1, "pen"),
    ("4 patches", 4, "patch"),
    ("12 suppositories", 12, "suppository"),
    ("1 inhaler", 1, "inhaler"),
    ("200 doses", 200, "dose"),
    ("60 effervescent tablets", 60, "tablet"),
]
KEPT_AS_TEXT = [
    "",
    "5 x 1 mL ampoules",
    "100 mL bottle",
    "Blister of 14",
    "3 x 10 tablets",
    "30 g tube",
    "0 capsules",
    "21 capsules and 7 tablets",
    "capsules",
    "廿一粒",
    "100000 tablets",
    "2 blisters of 14 capsules",
]


@pytest.mark.parametrize(("text", "count", "unit"), READ)
def test_pack_text_as_written_is_read_as_count_and_unit(text, count, unit):
    pack = parse_pack(text)
    assert (pack.count, pack.unit) == (count, unit)


@pytest.mark.parametrize("text", KEPT_AS_TEXT)
def test_text_that_is_not_one_count_of_one_unit_is_left_as_text(text):
    assert parse_pack(text) is None


@pytest.mark.parametrize("text", [t for t, _c, _u in READ] + KEPT_AS_TEXT)
def test_the_migrations_frozen_reading_matches_the_live_one(text):
    migration = importlib.import_module("monographs.migrations.0021_drug_class_table")
    live = parse_pack(text)
    assert migration._parse_pack(text) == (None if live is None else (live.count, live.unit))


@given(count=st.integers(min_value=1, max_value=99_999), unit=st.sampled_from(PackUnit.values))
def test_what_english_pages_write_reads_back_as_the_same_pack(count, unit):
    pack = parse_pack(english_pack(count, unit))
    assert (pack.count, pack.unit) == (count, unit)


def test_a_pack_reads_with_its_measure_word_in_chinese_and_text_stays_text():
    strength = {"pack_count": 21, "pack_unit": "capsule", "pack_size": "21 capsules"}
    with translation.override("zh-hant"):
        assert pack_label(strength) == "21 粒"
        assert pack_label({"pack_count": 5, "pack_unit": "ampoule"}) == "5 支"
        assert pack_label({"pack_size": "5 x 1 mL ampoules"}) == "5 x 1 mL ampoules"
    with translation.override("en"):
        assert pack_label(strength) == "21 capsules"
        assert pack_label({"pack_count": 1, "pack_unit": "vial"}) == "1 vial"
