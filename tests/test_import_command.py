"""`manage.py import_monograph`: the seed becomes one entry with its sections in
reading order, re-importing changes nothing twice but leaves a trace, and a bad
file is refused with a message instead of a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from reversion.models import Version

from monographs.models import Entry, Section

from .factories import SEED, SEED_KINDS, run_command

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "lenalidomide-big5.txt"
    path.write_bytes("來那度胺是一種免疫調節藥物。\n".encode("big5"))
    return path


def test_import_creates_one_entry_with_sections_in_reading_order(db):
    stdout, stderr = run_command("import_monograph", SEED, name="Lenalidomide")

    entry = Entry.objects.get()
    assert entry.generic_name == "Lenalidomide"
    assert entry.slug == "lenalidomide"
    sections = list(Section.objects.filter(entry=entry).order_by("position"))
    assert [s.kind for s in sections] == SEED_KINDS
    positions = [s.position for s in sections]
    assert positions == sorted(set(positions))
    # The seed's first and last paragraphs open and close the monograph.
    assert sections[0].body.startswith("Lenalidomide modulates immune system activity")
    assert "We disclaim all liability" in sections[-1].body

    assert "Created Lenalidomide: 15 paragraphs in 11 sections." in stdout
    assert "Line 7" in stderr
    assert "no list items follow" in stderr
    assert "Line 7" not in stdout


def test_import_twice_changes_nothing_twice_but_keeps_both_revisions(db):
    run_command("import_monograph", SEED, name="Lenalidomide")
    first_bodies = list(Section.objects.order_by("position").values_list("kind", "body"))

    stdout, _ = run_command("import_monograph", SEED, name="lenalidomide")  # the name matches whatever its case

    assert Entry.objects.count() == 1
    entry = Entry.objects.get()
    assert entry.generic_name == "Lenalidomide"
    assert entry.sections.count() == 11
    assert Section.objects.count() == 11
    assert list(Section.objects.order_by("position").values_list("kind", "body")) == first_bodies
    assert "Updated Lenalidomide" in stdout

    versions = Version.objects.get_for_object(entry)
    assert versions.count() == 2
    assert all(v.revision.comment == "Imported from lenalidomide.txt" for v in versions)


def test_import_records_the_user_and_reason_in_the_history(db):
    pharmacist = get_user_model().objects.create_user("pharmacist", password="pw-pharm-123")
    run_command(
        "import_monograph", SEED, name="Lenalidomide", user="pharmacist", reason="Initial monograph from the seed"
    )
    revision = Version.objects.get_for_object(Entry.objects.get()).get().revision
    assert revision.user == pharmacist
    assert revision.comment == "Initial monograph from the seed"


def test_unknown_user_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run_command("import_monograph", SEED, name="Lenalidomide", user="nobody")
    assert not Entry.objects.exists()


def test_non_utf8_file_is_refused_with_a_clear_message_and_nothing_is_created(db, bad_file):
    with pytest.raises(CommandError) as exc_info:
        run_command("import_monograph", bad_file, name="Lenalidomide")
    message = str(exc_info.value)
    assert str(bad_file) in message
    assert "not valid UTF-8" in message
    assert "save it as UTF-8" in message
    assert not Entry.objects.exists()
    assert not Section.objects.exists()
    assert not Version.objects.exists()


def test_bad_file_does_not_touch_an_existing_entry(db, bad_file):
    run_command("import_monograph", SEED, name="Lenalidomide")
    with pytest.raises(CommandError):
        run_command("import_monograph", bad_file, name="Lenalidomide")
    entry = Entry.objects.get()
    assert entry.sections.count() == 11
    assert Version.objects.get_for_object(entry).count() == 1


def test_spaces_around_the_name_are_dropped(db):
    stdout, _ = run_command("import_monograph", SEED, name="  Lenalidomide \t")
    entry = Entry.objects.get()
    assert entry.generic_name == "Lenalidomide"
    assert entry.slug == "lenalidomide"
    assert "Created Lenalidomide: 15 paragraphs" in stdout
    # The same name with other spacing updates the same entry.
    stdout, _ = run_command("import_monograph", SEED, name=" lenalidomide")
    assert Entry.objects.count() == 1
    assert "Updated Lenalidomide" in stdout


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_empty_name_is_refused_and_nothing_is_created(db, name):
    with pytest.raises(CommandError) as exc_info:
        run_command("import_monograph", SEED, name=name)
    assert "refused: A generic name is required." in str(exc_info.value)
    assert not Entry.objects.exists()
    assert not Version.objects.exists()


def test_utf16_file_is_refused_with_what_to_do(db, tmp_path):
    path = tmp_path / "lenalidomide-utf16.txt"
    path.write_bytes(SEED.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(CommandError) as exc_info:
        run_command("import_monograph", path, name="Lenalidomide")
    assert str(exc_info.value) == f"{path}: The file is UTF-16; save it as UTF-8 and try again."
    assert not Entry.objects.exists()


def test_hard_wrapped_file_is_imported_as_paragraphs(db, tmp_path):
    path = tmp_path / "wrapped.txt"
    path.write_text(
        "Lenalidomide is an oral medicine for\n"
        "certain blood cancers.\n"
        "\n"
        "Patients often notice fatigue.\n"
        "Some also report mild nausea.\n"
        "\n"
        "Beyond its role in myeloma, this\n"
        "substance is indicated for:\n"
        "\n"
        "來那度胺是一種免疫調節\n"
        "藥物。\n",
        encoding="utf-8",
    )
    stdout, stderr = run_command("import_monograph", path, name="Lenalidomide")
    assert "Created Lenalidomide: 4 paragraphs in 4 sections." in stdout
    entry = Entry.objects.get()
    bodies = dict(entry.sections.values_list("kind", "body"))
    assert bodies["overview"] == "Lenalidomide is an oral medicine for certain blood cancers."
    assert bodies["side_effects"] == "Patients often notice fatigue. Some also report mild nausea."
    assert bodies["other"] == "來那度胺是一種免疫調節藥物。"
    # The warning points at the line with the colon, not the first line of its paragraph.
    assert "warning: Line 8 introduces a list but no list items follow" in stderr


def test_missing_file_is_refused_with_a_clear_message(db, tmp_path):
    missing = tmp_path / "no-such-monograph.txt"
    with pytest.raises(CommandError) as exc_info:
        run_command("import_monograph", missing, name="Lenalidomide")
    assert str(exc_info.value) == f"Cannot read {missing}: No such file or directory."
    assert not Entry.objects.exists()


def test_directory_instead_of_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*: Is a directory"):
        run_command("import_monograph", tmp_path, name="Lenalidomide")


@pytest.mark.parametrize(
    "name, content, expected",
    [
        (
            "bad.txt",
            b"L\xe9nalidomide\n",
            "bad.txt: The file is not valid UTF-8 (byte 1: b'\\xe9'); save it as UTF-8 and try again.",
        ),
        ("empty.txt", b"\n \n", "empty.txt: The file is empty."),
        (
            "utf16.txt",
            "Lenalidomide\n".encode("utf-16"),
            "utf16.txt: The file is UTF-16; save it as UTF-8 and try again.",
        ),
        ("missing.txt", None, "missing.txt: No such file or directory."),
    ],
)
def test_command_line_exits_with_status_1_and_a_message_not_a_traceback(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    # A database that does not exist: any attempt to use it would end in a traceback.
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/no_such_formulary_db"}
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_monograph", str(path), "--name", "X"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("CommandError: ")
    assert expected in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    # The file was refused before anything touched a database (connecting would have failed).
    assert "no_such_formulary_db" not in completed.stderr


# --language zh-hant: a Chinese text attached to an existing entry, by order.

ZH_SEED = BASE_DIR / "monographs" / "seeds" / "lenalidomide.zh-hant.txt"


@pytest.fixture
def english_only(db):
    run_command("import_monograph", SEED, name="Lenalidomide")
    return Entry.objects.get(generic_name="Lenalidomide")


def test_chinese_import_attaches_each_section_by_order_in_one_revision(english_only, tmp_path):
    english = list(english_only.sections.values_list("body", flat=True))
    before = Version.objects.get_for_object(english_only).count()

    out, err = run_command("import_monograph", ZH_SEED, name="lenalidomide", language="zh-hant")

    assert "Chinese text attached to Lenalidomide: 10 sections, 1 left untranslated." in out
    sections = {s.kind: s for s in english_only.sections.all()}
    assert sections["contraindications"].body_zh.startswith("懷孕期間絕對不可使用本藥")
    assert sections["uses"].body_zh.count("\n\n") == 1  # its two paragraphs kept apart
    assert sections["mechanism"].body_zh == ""
    assert all(s.translation == "current" for s in sections.values() if s.body_zh)
    assert list(english_only.sections.values_list("body", flat=True)) == english  # English untouched
    versions = Version.objects.get_for_object(english_only)
    assert versions.count() == before + 1
    assert versions.first().revision.comment == "Chinese text imported from lenalidomide.zh-hant.txt"


def test_a_chinese_file_without_headings_is_split_at_blank_lines(db, tmp_path):
    Entry.objects.all().delete()
    path = tmp_path / "en.txt"
    path.write_text("Aspirin relieves pain.\nStore it below 25 degrees.\n", "utf-8")
    run_command("import_monograph", path, name="Aspirin")
    assert list(Entry.objects.get().sections.values_list("kind", flat=True)) == ["overview", "storage"]
    zh = tmp_path / "zh.txt"
    zh.write_text("阿士匹靈可紓緩\n痛楚。\n\n存放於攝氏25度以下。\n", "utf-8")

    run_command("import_monograph", zh, name="Aspirin", language="zh-hant")

    assert list(Entry.objects.get().sections.values_list("body_zh", flat=True)) == [
        "阿士匹靈可紓緩痛楚。",  # a wrapped line joined without a space
        "存放於攝氏25度以下。",
    ]


def test_a_chinese_file_with_another_number_of_sections_is_refused_listing_both_sides(english_only, tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("概覽\n來那度胺能調節免疫系統。\n\n副作用\n疲倦。\n", "utf-8")
    before = Version.objects.get_for_object(english_only).count()

    with pytest.raises(CommandError) as refused:
        run_command("import_monograph", path, name="Lenalidomide", language="zh-hant")

    message = str(refused.value)
    assert "The Chinese text has 2 sections and Lenalidomide has 11" in message
    assert "nothing was imported" in message
    assert "1. Overview ↔ 概覽" in message and "11. Disclaimer ↔ (no Chinese section)" in message
    assert not english_only.sections.exclude(body_zh="").exists()
    assert Version.objects.get_for_object(english_only).count() == before


def test_a_heading_naming_another_section_is_refused(english_only, tmp_path):
    text = ZH_SEED.read_text("utf-8").replace("藥物類別\n", "副作用\n", 1)
    path = tmp_path / "misplaced.txt"
    path.write_text(text, "utf-8")
    with pytest.raises(CommandError, match="Section 2 .*names “Side effects”, but section 2 of Lenalidomide is"):
        run_command("import_monograph", path, name="Lenalidomide", language="zh-hant")
    assert not english_only.sections.exclude(body_zh="").exists()


def test_chinese_import_needs_an_existing_entry(db, tmp_path):
    with pytest.raises(CommandError, match="No entry named 'Nothing'; import the English text first"):
        run_command("import_monograph", ZH_SEED, name="Nothing", language="zh-hant")


# Pasted PDF text with control characters is refused, English or Chinese, with its line.


def test_a_control_character_in_the_english_file_is_refused_and_nothing_is_created(db, tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_text("Lenalidomide is a drug.\nKeep below 25 °C\x0b dry.\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"refused: Line 2, character 17: the invisible character U\+000B"):
        run_command("import_monograph", path, name="Lenalidomide")
    assert not Entry.objects.exists()
    assert not Version.objects.exists()


def test_a_control_character_in_the_name_is_refused(db):
    with pytest.raises(CommandError, match=r"generic_name|U\+202E"):
        run_command("import_monograph", SEED, name="Lenalido\u202emide")
    assert not Entry.objects.exists()


def test_a_control_character_in_the_chinese_file_is_refused_and_nothing_changes(english_only, tmp_path):
    path = tmp_path / "pasted.zh-hant.txt"
    path.write_text(ZH_SEED.read_text(encoding="utf-8").replace("。", "\x1b。", 1), encoding="utf-8")
    before = Version.objects.get_for_object(english_only).count()
    with pytest.raises(CommandError, match=r"refused: Line \d+, character \d+: the invisible character U\+001B"):
        run_command("import_monograph", path, name="Lenalidomide", language="zh-hant")
    assert not english_only.sections.exclude(body_zh="").exists()
    assert Version.objects.get_for_object(english_only).count() == before
