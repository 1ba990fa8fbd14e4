"""The pharmacists' admin: every save is one revision of the whole entry, with
the user and a required reason, and an earlier version can be restored."""

import pytest
from django.urls import reverse
from reversion.models import Version

from monographs.models import Entry, Section, Strength, split_lines
from monographs.services import drug_class_for

from .admin_forms import change_form_data
from .factories import admin_entry_url


@pytest.fixture
def admin_client_chief(client, superuser):
    client.force_login(superuser)
    return client


def test_one_admin_save_makes_one_revision_with_the_whole_entry(admin_client_chief, superuser, lenalidomide):
    before = Version.objects.get_for_object(lenalidomide).count()
    data = change_form_data(admin_client_chief.get(admin_entry_url(lenalidomide)))
    data["drug_class"] = str(drug_class_for("Immunomodulator (thalidomide analogue)").pk)
    data["change_reason"] = "Clarify drug class wording"

    response = admin_client_chief.post(admin_entry_url(lenalidomide), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    versions = Version.objects.get_for_object(lenalidomide)
    assert versions.count() == before + 1
    revision = versions.first().revision
    assert revision.user == superuser
    assert revision.comment == "Clarify drug class wording"
    held = {(v.content_type.model, v.object_id) for v in revision.version_set.all()}
    # The entry's revision holds the class it points to (its names are published with it).
    lenalidomide.refresh_from_db()
    expected = {("entry", str(lenalidomide.pk)), ("drugclass", str(lenalidomide.drug_class_id))}
    expected |= {("section", str(pk)) for pk in lenalidomide.sections.values_list("pk", flat=True)}
    expected |= {("product", str(pk)) for pk in lenalidomide.products.values_list("pk", flat=True)}
    expected |= {
        ("strength", str(pk))
        for pk in Strength.objects.filter(product__entry=lenalidomide).values_list("pk", flat=True)
    }
    assert held == expected
    assert len(expected) == 1 + 1 + 11 + 3 + 18


def test_save_without_reason_is_refused_and_changes_nothing(admin_client_chief, lenalidomide):
    before = Version.objects.get_for_object(lenalidomide).count()
    data = change_form_data(admin_client_chief.get(admin_entry_url(lenalidomide)))
    data["drug_class"] = str(drug_class_for("Something else").pk)
    data.pop("change_reason", None)

    response = admin_client_chief.post(admin_entry_url(lenalidomide), data)

    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    lenalidomide.refresh_from_db()
    assert lenalidomide.drug_class.name == "Immunomodulatory imide drug"
    assert Version.objects.get_for_object(lenalidomide).count() == before


def test_saving_a_product_page_also_versions_the_whole_entry(admin_client_chief, lenalidomide):
    product = lenalidomide.products.get(name="Revlimid")
    url = reverse("admin:monographs_product_change", args=[product.pk])
    data = change_form_data(admin_client_chief.get(url))
    data["strengths-0-appearance"] = "new appearance"
    data["change_reason"] = "Manufacturer changed capsule colour"

    assert admin_client_chief.post(url, data).status_code == 302

    revision = Version.objects.get_for_object(lenalidomide).first().revision
    assert revision.comment == "Manufacturer changed capsule colour"
    assert revision.version_set.filter(content_type__model="section").count() == 11


def test_restore_brings_back_earlier_section_and_strength_text(admin_client_chief, lenalidomide):
    section = lenalidomide.sections.get(kind="storage")
    old_body = section.body
    strength = Strength.objects.get(product__name="Revlimid", amount=5)
    old_appearance = strength.appearance
    old_version = Version.objects.get_for_object(lenalidomide).first()

    data = change_form_data(admin_client_chief.get(admin_entry_url(lenalidomide)))
    index = next(i for i in range(11) if data[f"sections-{i}-id"] == section.pk)
    data[f"sections-{index}-body"] = "Store below 25 °C. 儲存於攝氏25度以下。"
    data["change_reason"] = "New storage advice"
    assert admin_client_chief.post(admin_entry_url(lenalidomide), data).status_code == 302
    product_url = reverse("admin:monographs_product_change", args=[strength.product_id])
    data = change_form_data(admin_client_chief.get(product_url))
    index = next(i for i in range(6) if data[f"strengths-{i}-id"] == strength.pk)
    data[f"strengths-{index}-appearance"] = "orange capsule"
    data["change_reason"] = "New capsule colour"
    assert admin_client_chief.post(product_url, data).status_code == 302
    assert Section.objects.get(pk=section.pk).body.endswith("儲存於攝氏25度以下。")

    history = admin_client_chief.get(admin_entry_url(lenalidomide, "history"))
    assert "New storage advice" in history.content.decode()
    revert_url = reverse("admin:monographs_entry_revision", args=[lenalidomide.pk, old_version.pk])
    data = change_form_data(admin_client_chief.get(revert_url))
    data["change_reason"] = "Storage advice was premature"
    response = admin_client_chief.post(revert_url, data)

    assert response.status_code == 302
    assert Section.objects.get(pk=section.pk).body == old_body
    assert Strength.objects.get(pk=strength.pk).appearance == old_appearance
    latest = Version.objects.get_for_object(lenalidomide).first().revision
    assert "Storage advice was premature" in latest.comment
    # History is never rewritten: the restore is a new revision on top.
    assert Version.objects.get_for_object(lenalidomide).count() >= 4


def test_entry_changelist_filters_and_search(admin_client_chief, lenalidomide):
    url = reverse("admin:monographs_entry_changelist")
    assert "Lenalidomide" in admin_client_chief.get(url, {"q": "Revlimid"}).content.decode()
    assert "Lenalidomide" in admin_client_chief.get(url, {"q": "來那度胺"}).content.decode()
    assert "0 formulary entries" in admin_client_chief.get(url, {"q": "paracetamol"}).content.decode()
    response = admin_client_chief.get(url, {"products__formulary_status__exact": "non_formulary"})
    assert response.context["cl"].result_count == 0
    response = admin_client_chief.get(url, {"products__kind__exact": "brand"})
    assert response.context["cl"].result_count == 1


def test_chinese_text_round_trips_through_the_admin(admin_client_chief, lenalidomide):
    data = change_form_data(admin_client_chief.get(admin_entry_url(lenalidomide)))
    data["synonyms"] = "來那度胺\nLenalidomid"
    data["change_reason"] = "加入中文名稱"
    assert admin_client_chief.post(admin_entry_url(lenalidomide), data).status_code == 302
    page = admin_client_chief.get(admin_entry_url(lenalidomide)).content.decode()
    assert "來那度胺" in page
    assert split_lines(Entry.objects.get(pk=lenalidomide.pk).synonyms) == ["來那度胺", "Lenalidomid"]
    assert Version.objects.get_for_object(lenalidomide).first().revision.comment == "加入中文名稱"


def test_browser_line_endings_are_stored_as_plain_newlines(admin_client_chief, lenalidomide):
    section = lenalidomide.sections.get(kind="drug_class")
    assert "\n\n" in section.body
    data = change_form_data(admin_client_chief.get(admin_entry_url(lenalidomide)))
    index = next(i for i in range(11) if data[f"sections-{i}-id"] == section.pk)
    # Browsers send textarea text with CRLF line endings.
    data[f"sections-{index}-body"] = section.body.replace("\n", "\r\n")
    data["change_reason"] = "Saved without changes"
    assert admin_client_chief.post(admin_entry_url(lenalidomide), data).status_code == 302
    assert Section.objects.get(pk=section.pk).body == section.body


# One edit screen: the entry, its sections, products and their strengths together.


def _one_screen_edit(client, entry, **changes):
    data = change_form_data(client.get(admin_entry_url(entry)))
    for key, value in changes.items():
        data[key] = value
    return data


def test_one_screen_saves_a_section_and_a_strength_in_one_revision_with_one_reason(
    admin_client_chief, superuser, lenalidomide
):
    from .admin_forms import formset_prefix

    data = _one_screen_edit(admin_client_chief, lenalidomide)
    # Strengths sit inside their product's row: products-<n>-strengths-<m>-<field>.
    strength = formset_prefix(data, "registration_number", "HK-90101")
    assert strength.startswith("products-") and "-strengths-" in strength
    data[f"{strength}-pack_size"] = "7 capsules"
    section = formset_prefix(data, "kind", "storage")
    data[f"{section}-body"] = "Store below 25 °C."
    data["change_reason"] = "New pack and storage advice"
    before = Version.objects.get_for_object(lenalidomide).count()

    response = admin_client_chief.post(admin_entry_url(lenalidomide), data)

    assert response.status_code == 302, response.context and response.context.get("first_error")
    assert Version.objects.get_for_object(lenalidomide).count() == before + 1
    revision = Version.objects.get_for_object(lenalidomide).first().revision
    assert (revision.user, revision.comment) == (superuser, "New pack and storage advice")
    assert Strength.objects.get(registration_number="HK-90101").pack_size == "7 capsules"
    assert lenalidomide.sections.get(kind="storage").body == "Store below 25 °C."


def test_deleting_a_strength_and_a_product_on_the_entry_screen_is_one_revision_without_them(
    admin_client_chief, lenalidomide
):
    from monographs import working_copy
    from monographs.snapshots import snapshot_of_revision

    from .admin_forms import formset_prefix

    data = _one_screen_edit(admin_client_chief, lenalidomide)
    data[f"{formset_prefix(data, 'registration_number', 'HK-90101')}-DELETE"] = "on"
    sandoz = formset_prefix(data, "name", "Lenalidomide Capsules (Sandoz)")
    data[f"{sandoz}-DELETE"] = "on"
    data["change_reason"] = "Sandoz withdrawn; 2.5 mg Revlimid no longer supplied"

    assert admin_client_chief.post(admin_entry_url(lenalidomide), data).status_code == 302

    snapshot = snapshot_of_revision(working_copy.latest_revision(lenalidomide), lenalidomide.pk)
    names = [p["name"] for p in snapshot["products"]]
    assert "Lenalidomide Capsules (Sandoz)" not in names and "Revlimid" in names
    numbers = {s["registration_number"] for p in snapshot["products"] for s in p["strengths"]}
    assert "HK-90101" not in numbers and "HK-90102" in numbers
    assert not Strength.objects.filter(registration_number="HK-90101").exists()
    # A deletion is an edit like any other: the entry is a draft that needs review.
    assert working_copy.state_of(lenalidomide.pk).state == "draft"


def test_the_entry_form_shows_amounts_without_trailing_zeros(admin_client_chief, lenalidomide):
    page = admin_client_chief.get(admin_entry_url(lenalidomide)).content.decode()
    assert 'value="2.5"' in page
    assert "2.5000" not in page


def test_a_refused_save_names_the_first_invalid_field_at_the_top(admin_client_chief, lenalidomide):
    from .admin_forms import formset_prefix

    data = _one_screen_edit(admin_client_chief, lenalidomide)
    data.pop("change_reason", None)
    response = admin_client_chief.post(admin_entry_url(lenalidomide), data)
    page = response.content.decode()
    assert 'data-field="id_change_reason"' in page
    assert "First problem: Reason for change: This field is required." in page

    data = _one_screen_edit(admin_client_chief, lenalidomide)
    strength = formset_prefix(data, "registration_number", "HK-90101")
    data[f"{strength}-registration_number"] = "90101"
    data["change_reason"] = "Typo"
    page = admin_client_chief.post(admin_entry_url(lenalidomide), data).content.decode()
    assert f'data-field="id_{strength}-registration_number"' in page
    assert "First problem: Product 1: Strength 1: HK registration number" in page


def test_readers_see_amounts_without_trailing_zeros_too(client, reader, lenalidomide):
    client.force_login(reader)
    page = client.get(admin_entry_url(lenalidomide)).content.decode()
    assert "<p>2.5</p>" in page
    assert "2.5000" not in page


def test_editors_add_and_rename_drug_classes_with_a_reason_and_readers_cannot(client, editor, reader):
    from monographs.models import DrugClass

    add_url = reverse("admin:monographs_drugclass_add")
    client.force_login(reader)
    assert client.get(add_url).status_code == 403

    client.force_login(editor)
    refused = client.post(add_url, {"name": "Biguanide", "name_zh": "雙胍類藥物", "slug": "biguanide"})
    assert refused.status_code == 200 and "change_reason" in refused.context["adminform"].form.errors
    assert not DrugClass.objects.exists()

    response = client.post(
        add_url,
        {"name": "Biguanide", "name_zh": "雙胍類藥物", "slug": "biguanide", "change_reason": "New class for metformin"},
    )
    assert response.status_code == 302
    drug_class = DrugClass.objects.get()
    versions = Version.objects.get_for_object(drug_class)
    assert versions.count() == 1 and versions.first().revision.comment == "New class for metformin"
    assert versions.first().revision.user == editor

    # One class, one spelling: another case of the same name is refused with the rule's message.
    twin = client.post(add_url, {"name": "BIGUANIDE", "name_zh": "", "slug": "biguanide-2", "change_reason": "Twin"})
    assert twin.status_code == 200 and "already exists" in twin.content.decode()
    assert DrugClass.objects.count() == 1

    change_url = reverse("admin:monographs_drugclass_change", args=[drug_class.pk])
    client.force_login(reader)
    assert client.post(change_url, {"name": "X", "slug": "x", "change_reason": "no"}).status_code == 403
    drug_class.refresh_from_db()
    assert drug_class.name == "Biguanide"


def test_the_database_refuses_a_class_name_differing_only_in_case_or_with_double_spaces(db):
    from django.db import IntegrityError, transaction

    from monographs.models import DrugClass

    DrugClass.objects.create(name="Beta blocker", slug="beta-blocker")
    with pytest.raises(IntegrityError), transaction.atomic():
        DrugClass.objects.create(name="BETA BLOCKER", slug="beta-blocker-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        DrugClass.objects.create(name="Beta  blocker", slug="beta-blocker-3")
    with pytest.raises(IntegrityError), transaction.atomic():
        DrugClass.objects.create(name="Statin", slug="Statin")
