"""`export_formulary` / `import_formulary`: a file with a format version and a
checksum; import into an empty installation reproduces every entry as a draft
awaiting review; re-import changes nothing; a truncated, tampered or invalid
file is refused with exit status 1 and changes nothing at all."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from reversion.models import Revision, Version

from monographs import services, transfer
from monographs.models import AuditEvent, Edition, Entry, Product, Section, State, Strength, TranslationStatus

from .factories import make_entry, one_product, run_command

BASE_DIR = Path(__file__).resolve().parent.parent


def export(path):
    out = io.StringIO()
    call_command("export_formulary", str(path), stdout=out)
    return out.getvalue()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Entry, Section, Product, Strength, Edition, AuditEvent, Revision, Version)
    }


def working_copies():
    return [transfer.entry_data(e) for e in Entry.objects.order_by("generic_name")]


def wipe_database():
    """Empty every content table, as on a new installation. TRUNCATE bypasses the
    append-only row triggers and is rolled back with the test's transaction."""
    tables = [
        "monographs_auditevent",
        "monographs_entrystate",
        "monographs_edition",
        "monographs_strength",
        "monographs_product",
        "monographs_section",
        "monographs_entry",
        "reversion_version",
        "reversion_revision",
    ]
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred; run their pending checks first, or TRUNCATE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert not any(counts().values())


def rewrite(path, change):
    """Change the payload of an export and re-sign it, as a valid file with other content."""
    document = json.loads(path.read_text("utf-8"))
    change(document["payload"])
    document["checksum"]["value"] = transfer.checksum(document["payload"])
    path.write_bytes(transfer.dump(document))


@pytest.fixture
def two_entries(published_lenalidomide):
    metformin = make_entry(
        "Metformin",
        drug_class="Biguanide",
        products=[one_product("Metformin", status="general", legal="p1s3", registration="HK-11111", per="5")],
    )
    metformin.notes = "Internal: check renal function."
    metformin.save()
    return published_lenalidomide, metformin


def test_export_file_has_format_version_checksum_and_full_content(tmp_path, two_entries):
    path = tmp_path / "formulary.json"
    message = export(path)
    assert "Exported 2 entries (12 sections, 4 products, 19 strengths)" in message

    document = json.loads(path.read_text("utf-8"))
    assert document["format"] == "hk-formulary-export"
    assert document["format_version"] == 4
    assert document["checksum"] == {"algorithm": "sha256", "value": transfer.checksum(document["payload"])}
    lenalidomide, metformin = document["payload"]["entries"]
    assert lenalidomide["generic_name"] == "Lenalidomide" and lenalidomide["atc_code"] == "L04AX04"
    assert "來那度胺" in lenalidomide["synonyms"]
    assert len(lenalidomide["sections"]) == 11
    assert [p["name"] for p in lenalidomide["products"]] == [
        "Lenalidomide Capsules (Sandoz)",
        "Lenalidomide Capsules (Teva)",
        "Revlimid",
    ]
    revlimid = lenalidomide["products"][2]
    assert revlimid["formulary_status"] == "sfi_safety_net"
    assert [s["amount"] for s in revlimid["strengths"]] == ["2.5", "5", "10", "15", "20", "25"]
    assert revlimid["strengths"][0]["registration_number"] == "HK-90101"
    assert metformin["notes"] == "Internal: check renal function."
    assert metformin["products"][0]["strengths"][0]["per_amount"] == "5"
    assert "id" not in revlimid, "ids belong to one installation and are not exported"


def test_export_to_standard_output(two_entries, capsys):
    call_command("export_formulary", "-")
    document = json.loads(capsys.readouterr().out)
    assert len(document["payload"]["entries"]) == 2


def test_export_then_import_into_an_empty_database_reproduces_entries_as_drafts(tmp_path, two_entries, editor):
    path = tmp_path / "from-test-server.json"
    export(path)
    before = working_copies()

    wipe_database()
    output, _err = run_command("import_formulary", path, user=editor.username)

    assert "Created: Lenalidomide" in output and "Created: Metformin" in output
    assert "2 created, 0 updated, 0 unchanged (skipped)" in output
    assert working_copies() == before
    assert Strength.objects.count() == 19 and Section.objects.count() == 12
    for entry in Entry.objects.all():
        assert entry.state.state == State.DRAFT
        assert entry.state.live_edition is None
        version = Version.objects.get_for_object(entry).select_related("revision").get()
        assert version.revision.get_comment() == "imported from from-test-server.json"
        assert version.revision.user == editor
    assert not Edition.objects.exists(), "import never publishes"

    # The imported entries can be sent for review as usual.
    lenalidomide = Entry.objects.get(generic_name="Lenalidomide")
    from monographs import workflow

    workflow.submit(entry=lenalidomide, user=editor, comment="Imported content")
    assert Entry.objects.get(pk=lenalidomide.pk).state.state == State.IN_REVIEW


def test_reimporting_the_same_file_changes_nothing(tmp_path, two_entries):
    path = tmp_path / "formulary.json"
    export(path)
    before = counts()
    output, _err = run_command("import_formulary", path)
    assert "Unchanged: Lenalidomide" in output and "Unchanged: Metformin" in output
    assert "0 created, 0 updated, 2 unchanged (skipped)" in output
    assert counts() == before
    assert Entry.objects.get(generic_name="Lenalidomide").state.state == State.PUBLISHED


def test_import_updates_by_matching_names_and_keys_and_never_publishes(tmp_path, two_entries, client):
    lenalidomide, metformin = two_entries
    path = tmp_path / "changes.json"
    export(path)
    revlimid = Product.objects.get(name="Revlimid")
    strength_ids = set(revlimid.strengths.values_list("pk", flat=True))

    def change(payload):
        entry = payload["entries"][0]
        entry["generic_name"] = "LENALIDOMIDE"  # matched case-insensitively
        entry["drug_class"] = "Immunomodulator"
        entry["sections"] = entry["sections"][:2]
        entry["products"] = [p for p in entry["products"] if p["name"] != "Lenalidomide Capsules (Teva)"]
        brand = next(p for p in entry["products"] if p["name"] == "Revlimid")
        brand["strengths"][0]["appearance"] = "new appearance"
        brand["strengths"] = brand["strengths"][:-1] + [
            {**brand["strengths"][-1], "amount": "30", "registration_number": "HK-90199"}
        ]

    rewrite(path, change)
    output, _err = run_command("import_formulary", path)
    assert "Updated: LENALIDOMIDE" in output and "Unchanged: Metformin" in output

    entry = Entry.objects.get(pk=lenalidomide.pk)
    assert entry.generic_name == "LENALIDOMIDE" and entry.drug_class.name == "Immunomodulator"
    assert entry.sections.count() == 2
    assert not Product.objects.filter(name="Lenalidomide Capsules (Teva)").exists()
    revlimid = Product.objects.get(pk=revlimid.pk)
    strengths = {format(s.amount.normalize(), "f"): s for s in revlimid.strengths.all()}
    assert sorted(strengths, key=float) == ["2.5", "5", "10", "15", "20", "30"]
    assert strengths["2.5"].appearance == "new appearance"
    assert strengths["2.5"].pk in strength_ids, "matched strengths keep their identity"
    assert strengths["30"].pk not in strength_ids

    # A draft awaiting review: the public keeps the approved edition.
    assert entry.state.state == State.DRAFT
    assert entry.state.live_edition is not None
    assert Edition.objects.filter(entry=entry).count() == 1
    body = client.get("/api/v1/entries/lenalidomide/").json()
    assert body["drug_class"] == "Immunomodulatory imide drug" and len(body["products"]) == 3
    event = AuditEvent.objects.filter(entry=entry).first()
    assert (event.action, event.from_state, event.to_state) == ("edited", "published", "draft")


def test_truncated_file_is_refused_and_changes_nothing(tmp_path, two_entries):
    path = tmp_path / "formulary.json"
    export(path)
    wipe_database()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError, match="not valid JSON"):
        run_command("import_formulary", path)
    assert not any(counts().values())


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["payload"]["entries"][0]["products"][0]["strengths"][0].update(amount="250"),
        lambda d: d["payload"]["entries"].pop(),
        lambda d: d["payload"]["entries"][1].update(generic_name="Metformin hydrochloride"),
        lambda d: d["checksum"].update(value="0" * 64),
    ],
)
def test_tampered_file_is_refused_and_changes_nothing(tmp_path, two_entries, tamper):
    path = tmp_path / "formulary.json"
    export(path)
    document = json.loads(path.read_text("utf-8"))
    tamper(document)
    path.write_bytes(transfer.dump(document))
    before, copies = counts(), working_copies()
    with pytest.raises(CommandError, match="Checksum mismatch"):
        run_command("import_formulary", path)
    assert counts() == before and working_copies() == copies


def test_invalid_content_anywhere_rolls_back_the_whole_import(tmp_path, two_entries):
    path = tmp_path / "formulary.json"
    export(path)
    wipe_database()

    def break_second_entry(payload):
        payload["entries"][1]["products"][0]["strengths"][0]["registration_number"] = "12345"

    rewrite(path, break_second_entry)
    with pytest.raises(CommandError) as excinfo:
        run_command("import_formulary", path)
    message = str(excinfo.value)
    assert "nothing imported" in message
    assert "Metformin, product Metformin product, strength 500 mg per 5 mL oral_solution" in message
    assert "registration_number" in message and "HK- followed by 5 digits" in message
    assert not any(counts().values()), "Lenalidomide, valid and first in the file, was not kept either"


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d.update(format_version=5), "Format version 5 is not supported"),
        (lambda d: d.update(format="something-else"), "not a formulary export"),
        (lambda d: d.pop("checksum"), "no sha256 checksum"),
    ],
)
def test_wrong_format_is_refused(tmp_path, two_entries, change, expected):
    path = tmp_path / "formulary.json"
    export(path)
    document = json.loads(path.read_text("utf-8"))
    change(document)
    path.write_bytes(transfer.dump(document))
    with pytest.raises(CommandError, match=expected):
        run_command("import_formulary", path)


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda p: p["entries"][0].pop("slug"), r"entries\[0\]: missing slug"),
        (lambda p: p["entries"][0].update(colour="red"), r"entries\[0\]: unknown field colour"),
        (lambda p: p["entries"][0]["products"][0]["strengths"][0].update(amount="lots"), "is not a decimal number"),
        (lambda p: p["entries"][0]["sections"][0].update(position="1"), "expected a whole number"),
        (lambda p: p["entries"][1].update(generic_name="lenalidomide"), "already appears"),
        (lambda p: p["entries"][0]["sections"][0].update(kind="poem"), "kind: Value 'poem' is not a valid choice"),
        # Control characters and text-direction overrides, named with where they are.
        (
            lambda p: p["entries"][0]["sections"][1].update(body="Keep\x0b dry."),
            r"entries\[0\]\.sections\[1\]\.body: the invisible character U\+000B \(LINE TABULATION\) "
            r"\(line 1, character 5\) is not allowed",
        ),
        (
            lambda p: p["entries"][0]["products"][0].update(chinese_name="瑞復美\u202e"),
            r"entries\[0\]\.products\[0\]\.chinese_name: the invisible character U\+202E",
        ),
        (lambda p: p["entries"][1].update(generic_name="Met\x00formin"), r"entries\[1\]\.generic_name: .*U\+0000"),
    ],
)
def test_malformed_content_is_refused_with_where_and_why(tmp_path, two_entries, change, expected):
    path = tmp_path / "formulary.json"
    export(path)
    rewrite(path, change)
    before = counts()
    with pytest.raises(CommandError, match=expected):
        run_command("import_formulary", path)
    assert counts() == before


def test_dry_run_reports_but_saves_nothing(tmp_path, two_entries):
    path = tmp_path / "formulary.json"
    export(path)
    wipe_database()
    output, _err = run_command("import_formulary", path, dry_run=True)
    assert "Dry run, nothing saved: 2 created" in output
    assert not any(counts().values())


@pytest.mark.parametrize("content", [b'{"format": "hk-formulary-export", "format_ver', None])
def test_command_line_exits_with_status_1_and_a_message(tmp_path, content):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_bytes(content)
    # A database that does not exist: the file must be refused before any connection.
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/no_such_formulary_db"}
    completed = subprocess.run(
        [sys.executable, "manage.py", "import_formulary", str(path)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("CommandError: ")
    assert "nothing imported" in completed.stderr or "Cannot read" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_version_1_file_without_safety_flags_still_imports(tmp_path, two_entries):
    path = tmp_path / "old.json"
    export(path)
    document = json.loads(path.read_text("utf-8"))
    document["format_version"] = 1
    for entry in document["payload"]["entries"]:
        for name in transfer.ADDED_IN_VERSION_2:
            del entry[name]
    document["checksum"]["value"] = transfer.checksum(document["payload"])
    entries = transfer.load_document(json.dumps(document).encode())
    lenalidomide = next(e for e in entries if e["generic_name"] == "Lenalidomide")
    assert lenalidomide["pregnancy_warning"] is False and lenalidomide["chinese_name"] == ""


def test_chinese_text_and_its_staleness_survive_a_transfer(tmp_path, bilingual_lenalidomide, editor):
    interactions = bilingual_lenalidomide.sections.get(kind="interactions")
    services.section_update(section=interactions, user=editor, reason="New", body=interactions.body + " More.")
    path = tmp_path / "bilingual.json"
    export(path)
    lenalidomide = json.loads(path.read_text("utf-8"))["payload"]["entries"][0]
    interactions = next(s for s in lenalidomide["sections"] if s["kind"] == "interactions")
    assert interactions["body_zh"].startswith("本藥與某些抗凝血藥物")
    assert lenalidomide["boxed_warning_zh"].startswith("懷孕期間不可使用")
    assert next(p for p in lenalidomide["products"] if p["name"] == "Revlimid")["chinese_name"] == "瑞復美"

    wipe_database()
    run_command("import_formulary", path, user=editor.username)

    entry = Entry.objects.get(generic_name="Lenalidomide")
    status = {section.kind: section.translation for section in entry.sections.all()}
    assert status["interactions"] == TranslationStatus.STALE  # not made current by the import
    assert status["contraindications"] == TranslationStatus.CURRENT
    assert status["mechanism"] == TranslationStatus.MISSING
    assert entry.boxed_warning_translation == TranslationStatus.CURRENT
    english_updated = entry.sections.get(kind="interactions").english_updated_at
    assert english_updated.isoformat() == interactions["english_updated_at"]


def test_a_version_2_file_imports_with_the_chinese_empty(tmp_path, bilingual_lenalidomide, editor):
    path = tmp_path / "v2.json"
    export(path)
    document = json.loads(path.read_text("utf-8"))
    document["format_version"] = 2
    for entry in document["payload"]["entries"]:
        for name in transfer.ADDED_IN_VERSION_3:
            del entry[name]
        for section in entry["sections"]:
            for name in transfer.SECTION_ADDED_IN_VERSION_3:
                del section[name]
        for product in entry["products"]:
            del product["chinese_name"]
    document["checksum"]["value"] = transfer.checksum(document["payload"])
    path.write_bytes(transfer.dump(document))

    wipe_database()
    run_command("import_formulary", path, user=editor.username)

    entry = Entry.objects.get(generic_name="Lenalidomide")
    assert entry.boxed_warning_zh == "" and entry.chinese_synonyms == ""
    assert not entry.sections.exclude(body_zh="").exists()
    assert not Product.objects.exclude(chinese_name="").exists()
    assert entry.chinese_name == "來那度胺"  # a version 2 field, kept


def test_a_bad_english_updated_at_is_refused(tmp_path, two_entries):
    path = tmp_path / "bad.json"
    export(path)
    rewrite(path, lambda payload: payload["entries"][0]["sections"][0].update(english_updated_at="yesterday"))
    with pytest.raises(transfer.TransferError, match="english_updated_at: 'yesterday' is not a date and time"):
        transfer.load_document(path.read_bytes())


def test_a_flag_that_is_not_true_or_false_is_refused(tmp_path, two_entries):
    path = tmp_path / "bad.json"
    export(path)
    rewrite(path, lambda payload: payload["entries"][0].update(cytotoxic="yes"))
    with pytest.raises(transfer.TransferError, match="cytotoxic: expected true or false"):
        transfer.load_document(path.read_bytes())
