"""The admin's second round (editing and reviewing): the home's search, a restore landing at the
submit step (or submitted in one press), the approve button naming what it does, Hong Kong dates,
and the review page showing both texts of a translation whose status changed."""

import datetime

from django.urls import reverse
from django.utils import formats, timezone, translation
from reversion.models import Version

from monographs import workflow, working_copy
from monographs.models import RestoredRevision, State
from monographs.services import section_update

from .admin_forms import change_form_data
from .factories import admin_entry_url


def test_home_search_opens_the_one_entry_found_or_lists_several(client, lenalidomide, editor):
    from tests.factories import make_entry

    client.force_login(editor)
    assert 'id="entry-find-q"' in client.get(reverse("admin:index")).content.decode()
    find = reverse("admin:monographs_entry_find")
    for term in ["HK-90104", "hk-90104", "revlimid", "Lenalido", "來那度胺"]:
        response = client.get(find, {"q": term})
        assert response.status_code == 302 and response.url == admin_entry_url(lenalidomide), term
    make_entry("Lenalidomide oral solution (test)", user=editor, sections=[("overview", "", "A test entry.")])
    listed = client.get(find, {"q": "lenalidomide"})
    assert listed.status_code == 200
    assert [e.generic_name for e in listed.context["found"]] == ["Lenalidomide", "Lenalidomide oral solution (test)"]
    assert "No entry matches" in client.get(find, {"q": "HK-00000"}).content.decode()


def test_a_restore_lands_at_the_submit_step_and_is_still_recorded_as_a_restore(client, lenalidomide, editor):
    client.force_login(editor)
    first = Version.objects.get_for_object(lenalidomide).last()
    data = change_form_data(client.get(admin_entry_url(lenalidomide)))
    data["atc_code"] = "L04AX99"
    data["change_reason"] = "ATC"
    assert client.post(admin_entry_url(lenalidomide), data).status_code == 302

    revert_url = reverse("admin:monographs_entry_revision", args=[lenalidomide.pk, first.pk])
    page = client.get(revert_url)
    assert 'name="_saveandsubmit"' in page.content.decode()
    data = change_form_data(page)
    data["change_reason"] = "Back to the import"
    response = client.post(revert_url, data)
    assert response.status_code == 302 and response.url == admin_entry_url(lenalidomide) + "#submit-step"
    assert RestoredRevision.objects.filter(revision=working_copy.latest_revision(lenalidomide)).exists()
    landed = client.get(response.url).content.decode()
    assert 'id="submit-step"' in landed and "Restored: this version is the draft now" in landed


def test_restore_and_submit_in_one_press(client, lenalidomide, editor):
    client.force_login(editor)
    first = Version.objects.get_for_object(lenalidomide).last()
    revert_url = reverse("admin:monographs_entry_revision", args=[lenalidomide.pk, first.pk])
    data = change_form_data(client.get(revert_url))
    data.update(change_reason="Back to the import", _saveandsubmit="1")
    response = client.post(revert_url, data, follow=True)
    assert "Saved and submitted for review" in response.content.decode()
    state = working_copy.state_of(lenalidomide.pk)
    assert state.state == State.IN_REVIEW
    assert state.submitted_revision == working_copy.latest_revision(lenalidomide)
    assert RestoredRevision.objects.filter(revision=state.submitted_revision).exists()


def test_approve_button_says_now_or_when_it_goes_live(client, published_lenalidomide, editor2, reviewer2):
    section = published_lenalidomide.sections.get(kind="storage")
    section_update(section=section, user=editor2, reason="Storage", body="Store cool.")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    client.force_login(reviewer2)
    page = client.get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert ">Approve and publish now</button>" in page
    revision = working_copy.submitted_revision(published_lenalidomide)
    when = (timezone.localtime() + datetime.timedelta(days=400)).replace(hour=9, minute=0)
    typed = when.strftime("%Y-%m-%d %H:%M")
    # A refused decision (no comment) comes back with the time typed on the button, and the
    # reasons at the top of the page, focused.
    response = client.post(
        admin_entry_url(published_lenalidomide, "review"),
        {
            "decision": "approve",
            "comment": "",
            "revision": revision.pk,
            "go_live_at": typed,
            "seen": workflow.state_token(published_lenalidomide),
        },
    )
    page = response.content.decode()
    assert f">Approve — goes live on {when.day} {when:%b} 09:00</button>" in page
    top = page.index("decision-refused")
    assert top < page.index("Reasons and notes since the live edition")
    assert "data-focus-on-load" in page[top - 200 : top + 200]
    assert 'placeholder="2026-12-04 09:00"' in page and 'type="datetime-local"' not in page


def test_admin_dates_are_hong_kong_dates_in_both_languages(settings):
    moment = timezone.make_aware(datetime.datetime(2026, 12, 2, 9, 0))
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2 Dec 2026 09:00"
        assert formats.date_format(moment, "DATE_FORMAT") == "2 Dec 2026"
    with translation.override("zh-hant"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026年12月2日 09:00"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "2026年12月2日 09:00"


def test_review_shows_both_texts_of_a_translated_section_whose_english_changed(
    client, published_bilingual_lenalidomide, editor2, reviewer2
):
    entry = published_bilingual_lenalidomide
    interactions = entry.sections.get(kind="interactions")
    section_update(section=interactions, user=editor2, reason="More", body=interactions.body + " Dexamethasone too.")
    workflow.submit(entry=entry, user=editor2)
    client.force_login(reviewer2)
    response = client.get(admin_entry_url(entry, "review"))
    change = next(c for c in response.context["section_changes"] if c.translation_texts)
    assert change.translation_texts.english_after.endswith("Dexamethasone too.")
    assert change.translation_texts.chinese_before == change.translation_texts.chinese_after != ""
    page = response.content.decode()
    assert 'class="translation-texts"' in page and "the English and the Chinese, before and after" in page
