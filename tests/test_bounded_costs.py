"""Bounded costs: a section body has a length cap, refused alike by the
admin form, the model and the database; admin list searches have a size cap."""

import importlib
import time

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from reversion.models import Version

from monographs import admin as monographs_admin
from monographs.models import Section

from .admin_forms import change_form_data

# The documented cap (docs/security.md); the tests state it rather than import it.
CAP = 100_000
TOO_LONG = "x" * (CAP + 1)
MESSAGE = "A section body can have at most 100,000 characters; split a longer text into several sections."


def migration_0008():
    return importlib.import_module("monographs.migrations.0008_section_body_max_length")


@pytest.fixture
def staff(client, superuser):
    client.force_login(superuser)
    return client


def test_the_model_and_the_migration_state_the_same_cap_and_message():
    from monographs.models import SECTION_BODY_MAX_LENGTH, SECTION_BODY_TOO_LONG

    assert SECTION_BODY_MAX_LENGTH == migration_0008().MAX_LENGTH == CAP
    assert str(SECTION_BODY_TOO_LONG) == MESSAGE == migration_0008().MESSAGE


def test_admin_refuses_an_overlong_body_with_a_form_error_and_saves_nothing(staff, lenalidomide):
    url = reverse("admin:monographs_entry_change", args=[lenalidomide.pk])
    data = change_form_data(staff.get(url))
    data["sections-0-body"] = TOO_LONG
    data["change_reason"] = "Paste the whole PI"
    bodies = dict(Section.objects.values_list("pk", "body"))
    versions = Version.objects.get_for_object(lenalidomide).count()

    response = staff.post(url, data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["body"] == [MESSAGE]
    assert dict(Section.objects.values_list("pk", "body")) == bodies
    assert Version.objects.get_for_object(lenalidomide).count() == versions


def test_a_body_of_exactly_the_cap_is_accepted(staff, lenalidomide):
    url = reverse("admin:monographs_entry_change", args=[lenalidomide.pk])
    data = change_form_data(staff.get(url))
    data["sections-0-body"] = "y" * CAP
    data["change_reason"] = "Longest allowed section"

    assert staff.post(url, data).status_code == 302
    assert len(Section.objects.get(pk=data["sections-0-id"]).body) == CAP


def test_model_validation_refuses_an_overlong_body(lenalidomide):
    section = lenalidomide.sections.first()
    section.body = TOO_LONG
    with pytest.raises(ValidationError) as error:
        section.full_clean()
    assert error.value.message_dict["body"] == [MESSAGE]


def test_database_refuses_an_overlong_body_saved_past_validation(lenalidomide):
    section = lenalidomide.sections.first()
    section.body = TOO_LONG
    with pytest.raises(IntegrityError, match="section_body_max_length"), transaction.atomic():
        section.save()
    section.refresh_from_db()
    assert len(section.body) < CAP


def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("NOT VALID constraints are PostgreSQL's.")


def constraint_state():
    with connection.cursor() as cursor:
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", ["section_body_max_length"])
        return [row[0] for row in cursor.fetchall()]


def test_migration_keeps_and_reports_bodies_that_were_already_longer(lenalidomide, capsys):
    """Run 0008's own operations on a database where a section was already too long."""
    postgresql_only()
    section = lenalidomide.sections.order_by("pk").first()
    loader = MigrationLoader(connection)
    before = loader.project_state(("monographs", "0007_search_columns"))
    after = loader.project_state(("monographs", "0008_section_body_max_length"))
    with connection.cursor() as cursor:
        # The fixture's rows still have deferred foreign-key checks pending, which ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(migration_0008().DROP)
        cursor.execute("UPDATE monographs_section SET body = %s WHERE id = %s", [TOO_LONG, section.pk])

    with connection.schema_editor(atomic=False) as editor:
        for operation in migration_0008().Migration.operations:
            state = before.clone()
            operation.state_forwards("monographs", state)
            operation.database_forwards("monographs", editor, before, state)
            before = state

    assert (
        before.models["monographs", "section"].options["constraints"]
        == (after.models["monographs", "section"].options["constraints"])
    )
    printed = capsys.readouterr().out
    assert f"entry {lenalidomide.pk}, section {section.pk}: 100,001 characters" in printed
    section.refresh_from_db()
    assert section.body == TOO_LONG  # never truncated
    assert constraint_state() == [False]  # added NOT VALID: old rows unchecked, new ones checked
    other = lenalidomide.sections.exclude(pk=section.pk).first()
    other.body = TOO_LONG
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_migrated_database_has_the_constraint_unvalidated(db):
    postgresql_only()
    assert constraint_state() == [False]


def search(client, url, terms):
    start = time.perf_counter()
    response = client.get(url, {"q": terms})
    return response, time.perf_counter() - start


def test_admin_search_with_400_terms_answers_at_once_with_a_message(staff, lenalidomide):
    url = reverse("admin:monographs_entry_changelist")
    # 400 terms: as many as an address within FORMULARY_MAX_REQUEST_URI holds (a longer one is
    # a 414 before any view runs, tests/test_fhir_standard.py).
    terms = " ".join(f"lenalidomide{i}" for i in range(400))

    with CaptureQueriesContext(connection) as queries:
        response, _seconds = search(staff, url, terms)

    assert response.status_code == 200
    # "At once" without a clock (a loaded machine makes any time bound flaky): not one of the
    # terms reached the database, so nothing was searched.
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "lenalidomide" not in sql.lower() and len(queries.captured_queries) < 20, len(queries.captured_queries)
    page = response.content.decode()
    assert "Search is limited to 10 words and 200 characters; shorten it to see results." in page
    assert response.context["cl"].result_count == 0


def test_admin_search_over_200_characters_is_refused_with_a_message(staff, lenalidomide):
    response, _ = search(staff, reverse("admin:monographs_product_changelist"), "Revlimid" + " " * 200)
    assert "Search is limited to 10 words" in response.content.decode()


def test_admin_search_of_ten_terms_still_searches(staff, lenalidomide):
    response, _ = search(staff, reverse("admin:monographs_entry_changelist"), "lenalidomide " * 9 + "revlimid")
    assert "Search is limited" not in response.content.decode()
    assert response.context["cl"].result_count == 1
    assert "Up to 10 words and 200 characters." in response.content.decode()


def test_autocomplete_with_too_many_terms_answers_empty_and_leaves_no_message(staff, lenalidomide):
    response = staff.get(
        "/admin/autocomplete/",
        {"term": "a " * 50, "app_label": "monographs", "model_name": "product", "field_name": "entry"},
    )
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert "Search is limited" not in staff.get(reverse("admin:index")).content.decode()


def test_every_searchable_admin_of_the_app_bounds_its_search():
    searchable = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "monographs" and model_admin.search_fields
    ]
    # entries, products, strengths, the audit log, the outbox and drug classes
    assert len(searchable) == 6
    assert all(isinstance(model_admin, monographs_admin.BoundedSearchMixin) for model_admin in searchable)
