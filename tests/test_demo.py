"""`manage.py load_demo`: lenalidomide with three products of six strengths,
clearly marked as demo data, safe to run again, never by accident in production."""

import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from reversion.models import Revision, Version

from monographs.demo import load_lenalidomide
from monographs.models import Entry, EntryState, Product, Section, State, Strength, split_lines
from monographs.services import entry_update

STRENGTHS = [Decimal("2.5"), Decimal("5"), Decimal("10"), Decimal("15"), Decimal("20"), Decimal("25")]


def load_demo(**options):
    stdout = io.StringIO()
    call_command("load_demo", stdout=stdout, stderr=io.StringIO(), **options)
    return stdout.getvalue()


@pytest.fixture
def dev(settings, db):
    """A development machine: load_demo runs without --force."""
    settings.DEBUG = True


def can_log_in(client, username, password):
    """Log in through the admin login page, as a person would; leaves the client logged in."""
    client.logout()
    response = client.post(reverse("admin:login"), {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def counts():
    return {
        "entries": Entry.objects.count(),
        "sections": Section.objects.count(),
        "products": Product.objects.count(),
        "strengths": Strength.objects.count(),
        "users": get_user_model().objects.count(),
    }


def test_demo_has_lenalidomide_with_its_monograph(dev):
    load_demo()
    entry = Entry.objects.get()
    assert entry.generic_name == "Lenalidomide"
    assert entry.sections.count() == 11
    assert entry.sections.order_by("position").first().kind == "overview"
    assert entry.drug_class.name == "Immunomodulatory imide drug"
    assert entry.drug_class.name_zh == "免疫調節醯亞胺類藥物"
    assert entry.atc_code == "L04AX04"
    assert "來那度胺" in split_lines(entry.synonyms)


def test_demo_has_one_brand_and_two_generics(dev):
    load_demo()
    entry = Entry.objects.get(generic_name="Lenalidomide")
    assert entry.products.count() == 3
    assert list(entry.products.filter(kind="brand").values_list("name", flat=True)) == ["Revlimid"]
    assert entry.products.filter(kind="generic").count() == 2


def test_every_demo_product_has_six_capsule_strengths_with_registration_numbers(dev):
    load_demo()
    for product in Product.objects.all():
        strengths = list(product.strengths.order_by("amount"))
        assert [s.amount for s in strengths] == STRENGTHS, product.name
        assert {s.unit for s in strengths} == {"mg"}
        assert {s.dosage_form for s in strengths} == {"capsule"}
        assert {s.route for s in strengths} == {"oral"}
        for strength in strengths:
            assert re.fullmatch(r"HK-\d{5}", strength.registration_number), strength
            assert strength.appearance
    numbers = list(Strength.objects.values_list("registration_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 18
    revlimid = Product.objects.get(name="Revlimid")
    assert str(revlimid.strengths.get(amount=Decimal("2.5"))) == "2.5 mg Capsule"


def test_demo_products_say_they_are_demo_values(dev):
    load_demo()
    for product in Product.objects.all():
        assert "DEMO DATA" in product.notes
        assert "not Drug Office records" in product.notes


def test_every_demo_strength_passes_validation(dev):
    load_demo()
    strengths = list(Strength.objects.all())
    assert len(strengths) == 18
    for strength in strengths:
        strength.full_clean()
    for product in Product.objects.all():
        product.full_clean()
    for section in Section.objects.all():
        section.full_clean()
    Entry.objects.get().full_clean()


def test_running_twice_creates_no_duplicates(dev):
    load_demo()
    first = counts()
    assert first == {"entries": 1, "sections": 11, "products": 3, "strengths": 18, "users": 4}
    second_output = load_demo()
    assert counts() == first
    assert "Demo data ready: Lenalidomide with 11 sections and 3 products." in second_output


def test_prints_the_demo_login_and_it_works(dev, client):
    output = load_demo()
    assert "Demo data ready: Lenalidomide with 11 sections and 3 products." in output
    assert "Demo logins (development only):" in output
    assert "admin / admin-demo-pass" in output
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff
    assert admin.is_superuser
    assert can_log_in(client, "admin", "admin-demo-pass")


def test_refuses_to_create_demo_logins_with_debug_off(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to create demo logins with DEBUG off"):
        load_demo()
    assert counts() == {"entries": 0, "sections": 0, "products": 0, "strengths": 0, "users": 0}


def test_force_loads_the_demo_with_debug_off(settings, db):
    settings.DEBUG = False
    output = load_demo(force=True)
    assert "admin / admin-demo-pass" in output
    assert Product.objects.count() == 3


def test_printed_login_works_even_when_admin_already_existed(dev, client):
    get_user_model().objects.create_superuser("admin", "admin@example.org", "a-real-secret-456")
    output = load_demo()
    assert "admin / admin-demo-pass" not in output
    assert "admin: existing login kept, its password was not changed" in output
    # The existing account is untouched: its own password still works, the demo one does not.
    assert not can_log_in(client, "admin", "admin-demo-pass")
    assert can_log_in(client, "admin", "a-real-secret-456")
    # The logins it did create are still printed, and work.
    assert "editor / editor-demo-pass" in output
    assert can_log_in(client, "editor", "editor-demo-pass")


DEMO_ROLES = [
    ("editor", "editor-demo-pass", "Editors"),
    ("reviewer", "reviewer-demo-pass", "Reviewers"),
    ("reader", "reader-demo-pass", "Readers"),
]


@pytest.mark.parametrize("username, password, group", DEMO_ROLES)
def test_demo_has_a_staff_login_for_each_workflow_role(dev, client, username, password, group):
    output = load_demo()
    assert f"  {username} / {password}  ({group})" in output
    user = get_user_model().objects.get(username=username)
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [group]
    assert can_log_in(client, username, password)
    # Staff may open the admin.
    assert client.get(reverse("admin:index")).status_code == 200


def test_demo_is_published_through_review_by_the_demo_roles(dev, client):
    load_demo()
    entry = Entry.objects.get()
    assert EntryState.objects.get(entry=entry).state == State.PUBLISHED
    events = {e.action: e.actor.username for e in entry.audit_events.select_related("actor")}
    assert events == {"submitted": "editor", "approved": "reviewer"}
    page = client.get("/en/entries/lenalidomide/")
    assert page.status_code == 200 and "Revlimid" in page.content.decode()


def test_second_run_prints_no_passwords_for_logins_it_did_not_create(dev):
    load_demo()
    output = load_demo()
    assert "-demo-pass" not in output
    for username in ["admin", "editor", "reviewer", "reader"]:
        assert f"  {username}: existing login kept" in output


def test_demo_puts_back_role_groups_that_were_deleted(dev):
    from django.contrib.auth.models import Group

    Group.objects.all().delete()
    load_demo()
    reviewer = get_user_model().objects.get(username="reviewer")
    assert list(reviewer.groups.values_list("name", flat=True)) == ["Reviewers"]
    assert reviewer.has_perm("monographs.review_entry")


def test_reset_passwords_puts_the_demo_login_back(dev, client):
    User = get_user_model()
    User.objects.create_user("editor", password="changed-by-hand-789")
    output = load_demo(reset_passwords=True)
    assert "editor / editor-demo-pass  (Editors)" in output
    editor = User.objects.get(username="editor")
    assert editor.is_staff
    assert editor.groups.filter(name="Editors").exists()
    assert can_log_in(client, "editor", "editor-demo-pass")


def test_running_again_makes_no_new_revisions(dev):
    load_demo()
    revisions = Revision.objects.count()
    versions = Version.objects.count()
    updated_at = Entry.objects.get().updated_at
    load_demo()
    assert Revision.objects.count() == revisions
    assert Version.objects.count() == versions
    assert Entry.objects.get().updated_at == updated_at


def test_running_again_leaves_a_published_entry_published(dev):
    load_demo()
    load_demo()
    entry = Entry.objects.get()
    assert EntryState.objects.get(entry=entry).state == State.PUBLISHED
    assert entry.editions.count() == 1


def test_demo_entry_fields_are_recorded_in_the_history(dev):
    load_demo()
    entry = Entry.objects.get()
    versions = Version.objects.get_for_object(entry).order_by("pk")
    comments = [v.revision.comment for v in versions]
    # Imported first, then the ATC code and synonyms, then one revision per product.
    assert comments[:2] == [
        "Demo data: imported from the lenalidomide seed text",
        "Demo data: set ATC code, synonyms, Chinese name, harmful in pregnancy, pregnancy prevention programme, "
        "cytotoxic / hazardous, boxed warning",
    ]
    update = versions[1]
    assert update.field_dict["atc_code"] == "L04AX04"
    assert "來那度胺" in update.field_dict["synonyms"]
    assert update.revision.user.username == "editor"  # the demo editor does the work
    # Before it, the history shows the entry without them.
    assert versions[0].field_dict["atc_code"] == ""


def test_demo_fills_in_missing_fields_and_keeps_what_a_pharmacist_entered(db):
    entry = load_lenalidomide()
    entry_update(entry=entry, reason="Corrected by pharmacist", drug_class="", atc_code="L04AX99")
    load_lenalidomide()
    entry.refresh_from_db()
    assert entry.drug_class.name == "Immunomodulatory imide drug"
    assert entry.drug_class.name_zh == "免疫調節醯亞胺類藥物"
    assert entry.atc_code == "L04AX99"


def test_demo_lenalidomide_carries_its_pregnancy_and_cytotoxic_flags(db):
    from monographs.snapshots import safety_flags, snapshot_of_revision
    from monographs.working_copy import latest_revision

    entry = load_lenalidomide()
    assert entry.chinese_name == "來那度胺"
    content = snapshot_of_revision(latest_revision(entry), entry.pk)
    assert safety_flags(content) == ["pregnancy", "pregnancy_prevention", "cytotoxic"]
    assert "pregnancy" in content["boxed_warning"]


def test_the_demo_entry_page_shows_the_empty_list_warning(dev, client):
    load_demo()
    entry = Entry.objects.get(generic_name="Lenalidomide")
    assert EntryState.objects.get(entry=entry).state == State.PUBLISHED  # a warning did not stop it
    client.force_login(get_user_model().objects.get(username="editor"))
    page = client.get(reverse("admin:monographs_entry_change", args=[entry.pk])).content.decode()
    assert 'data-check="empty_list"' in page
    assert "“Beyond its role in myeloma, this substance is indicated for:” introduces a list" in page


def test_demo_history_credits_the_editor_and_demo_logins_have_example_addresses(dev):
    call_command("load_demo", stdout=io.StringIO())
    entry = Entry.objects.get()
    authors = {v.revision.user.username for v in Version.objects.get_for_object(entry).select_related("revision")}
    assert authors == {"editor"}
    emails = dict(get_user_model().objects.values_list("username", "email"))
    assert emails == {name: f"{name}@example.org" for name in ["admin", "editor", "reviewer", "reader"]}


def test_the_demo_has_a_chinese_translation_current_except_one_missing_section(dev):
    from monographs.models import AuditEvent, TranslationStatus

    load_demo()
    entry = Entry.objects.get()
    status = {s.kind: s.translation for s in entry.sections.all()}
    for kind in ("overview", "uses", "side_effects", "seek_help", "contraindications", "storage", "interactions"):
        assert status[kind] == TranslationStatus.CURRENT, kind
    # The one deliberately missing section; nothing outdated, so approving needs no "publish outdated" tick.
    assert [kind for kind, value in status.items() if value != TranslationStatus.CURRENT] == ["mechanism"]
    contraindications = entry.sections.get(kind="contraindications").body_zh
    assert "懷孕" in contraindications
    assert "多發性骨髓瘤" in entry.sections.get(kind="uses").body_zh
    assert entry.boxed_warning_translation == TranslationStatus.CURRENT
    assert Product.objects.get(name="Revlimid").chinese_name == "瑞復美"
    assert "示範翻譯" in entry.sections.get(kind="disclaimer").body_zh
    assert "demonstration translation" in entry.notes
    approved = AuditEvent.objects.get(entry=entry, action=AuditEvent.Action.APPROVED)
    assert "outdated" not in approved.comment
