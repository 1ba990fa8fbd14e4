"""Traditional Chinese beside the English, staff side: one revision holds both
languages, a changed English marks its Chinese stale until someone checks it, the admin
finds stale entries, and approving stale Chinese needs the reviewer's recorded tick."""

import pytest
from django.urls import reverse
from reversion.models import Version

from monographs import services, workflow, working_copy
from monographs.models import AuditEvent, Entry, Section, State, TranslationStatus

from .admin_forms import change_form_data
from .factories import admin_entry_url, make_entry

SECTIONS = [
    ("overview", "", "Aspirin relieves pain and fever."),
    ("storage", "", "Store below 25 °C."),
]


def row(data, kind):
    return next(f"sections-{i}" for i in range(20) if data.get(f"sections-{i}-kind") == kind)


def save(client, entry, reason, **changes):
    """Save the entry's admin screen as a browser would, with `changes` as {"<kind>-<field>": value}
    for sections (e.g. overview__body_zh) or entry fields."""
    data = change_form_data(client.get(admin_entry_url(entry)))
    for key, value in changes.items():
        if "__" in key:
            kind, field = key.split("__")
            data[f"{row(data, kind)}-{field}"] = value
        else:
            data[key] = value
    data["change_reason"] = reason
    response = client.post(admin_entry_url(entry), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    return response


@pytest.fixture
def aspirin(editor):
    return make_entry("Aspirin", user=editor, sections=SECTIONS)


@pytest.fixture
def translated(client, aspirin, editor):
    client.force_login(editor)
    save(
        client,
        aspirin,
        "Chinese text added",
        overview__body_zh="阿士匹靈可紓緩痛楚及退燒。",
        storage__body_zh="存放於攝氏25度以下。",
    )
    return aspirin


def section(entry, kind):
    return Section.objects.get(entry=entry, kind=kind)


def test_one_revision_holds_both_languages_and_restore_brings_back_both(client, aspirin, editor):
    client.force_login(editor)
    before = Version.objects.get_for_object(aspirin).count()
    save(
        client,
        aspirin,
        "English and Chinese together",
        overview__body="Aspirin relieves mild pain and fever.",
        overview__body_zh="阿士匹靈可紓緩輕微痛楚及退燒。",
        chinese_synonyms="亞士匹靈",
    )
    versions = Version.objects.get_for_object(aspirin)
    assert versions.count() == before + 1
    first = versions.first()
    assert first.revision.comment == "English and Chinese together"
    held = first.revision.version_set.get(content_type__model="section", object_id=str(section(aspirin, "overview").pk))
    assert held.field_dict["body"] == "Aspirin relieves mild pain and fever."
    assert held.field_dict["body_zh"] == "阿士匹靈可紓緩輕微痛楚及退燒。"

    save(
        client,
        aspirin,
        "Both rewritten",
        overview__body="Aspirin is an analgesic.",
        overview__body_zh="阿士匹靈是止痛藥。",
        chinese_synonyms="",
    )
    revert_url = reverse("admin:monographs_entry_revision", args=[aspirin.pk, first.pk])
    data = change_form_data(client.get(revert_url))
    data["change_reason"] = "Back to the first wording"
    assert client.post(revert_url, data).status_code == 302

    restored = section(aspirin, "overview")
    assert restored.body == "Aspirin relieves mild pain and fever."
    assert restored.body_zh == "阿士匹靈可紓緩輕微痛楚及退燒。"
    assert restored.translation == TranslationStatus.CURRENT
    assert Entry.objects.get(pk=aspirin.pk).chinese_synonyms == "亞士匹靈"


def test_changing_the_english_marks_only_that_chinese_stale_until_checked_and_the_filter_finds_it(
    client, translated, editor
):
    other = make_entry("Paracetamol", user=editor, sections=[("overview", "", "Paracetamol relieves pain.")])
    services.section_update(section=other.sections.get(), user=editor, reason="Chinese", body_zh="撲熱息痛可紓緩痛楚。")
    changelist = reverse("admin:monographs_entry_changelist")

    def found(value):
        response = client.get(changelist, {"chinese": value})
        return sorted(entry.generic_name for entry in response.context["cl"].result_list)

    assert found("stale") == []
    save(client, translated, "Storage advice changed", storage__body="Store below 30 °C, away from moisture.")

    assert section(translated, "storage").translation == TranslationStatus.STALE
    assert section(translated, "overview").translation == TranslationStatus.CURRENT
    assert found("stale") == ["Aspirin"]
    assert found("stale_or_missing") == ["Aspirin"]
    page = client.get(admin_entry_url(translated)).content.decode()
    assert "Outdated: the English changed on" in page
    listing = client.get(changelist).content.decode()
    assert "Outdated: the English changed after this translation" in listing

    versions = Version.objects.get_for_object(translated).count()
    # Ticked without both texts shown side by side: refused, nothing saved.
    data = change_form_data(client.get(admin_entry_url(translated)))
    data[f"{row(data, 'storage')}-translation_checked"] = "on"
    data["change_reason"] = "Ticked unseen"
    refused = client.post(admin_entry_url(translated), data)
    assert refused.status_code == 200
    assert "Compare English and Chinese side by side" in refused.context["first_error"][2]
    assert section(translated, "storage").translation == TranslationStatus.STALE
    assert Version.objects.get_for_object(translated).count() == versions

    # The page's script sets the hidden field when the side-by-side view is opened.
    save(
        client,
        translated,
        "Chinese storage text checked",
        storage__translation_checked="on",
        storage__texts_compared="1",
    )

    assert section(translated, "storage").translation == TranslationStatus.CURRENT
    assert section(translated, "storage").body_zh == "存放於攝氏25度以下。"
    assert Version.objects.get_for_object(translated).count() == versions + 1
    assert Version.objects.get_for_object(translated).first().revision.comment == "Chinese storage text checked"
    assert found("stale") == []


def test_the_missing_filter_finds_entries_with_an_untranslated_part(client, translated, editor):
    make_entry("Codeine", user=editor, sections=[("overview", "", "Codeine is an opioid.")])
    client.force_login(editor)
    response = client.get(reverse("admin:monographs_entry_changelist"), {"chinese": "missing"})
    assert [entry.generic_name for entry in response.context["cl"].result_list] == ["Codeine"]
    # An unknown value filters nothing out (the admin's own behaviour for a stale link).
    response = client.get(reverse("admin:monographs_entry_changelist"), {"chinese": "x"})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(
    "english",
    [
        "Plain.",
        "  Leading and trailing spaces.  ",
        "Windows\r\nline ends\r\n",
        "\u3000Ideographic space and NBSP\u00a0",
        # (A unit separator, \x1f, the fingerprint's own separator, can no longer be in the text:
        # control characters are refused, tests/test_models.py.)
        "Old Mac\rline end",
    ],
)
def test_sql_staleness_agrees_with_the_python_rule(editor, english):
    entry = make_entry("Aspirin", user=editor, sections=[("overview", "", english)])
    services.section_update(section=entry.sections.get(), user=editor, reason="zh", body_zh="中文。")
    assert entry.sections.get().translation == TranslationStatus.CURRENT
    assert not working_copy.entries_by_translation(Entry.objects.all(), "stale").exists()
    Section.objects.filter(entry=entry).update(body=english + " more")  # the English changes underneath
    assert Entry.objects.get(pk=entry.pk).sections.get().translation == TranslationStatus.STALE
    assert list(working_copy.entries_by_translation(Entry.objects.all(), "stale")) == [entry]


def test_the_stale_filter_is_one_query(django_assert_num_queries, translated, editor):
    for n in range(5):
        make_entry(f"Entry {n}", user=editor)
    with django_assert_num_queries(1):
        list(working_copy.entries_by_translation(Entry.objects.all(), "stale_or_missing"))
    with django_assert_num_queries(1):
        rows = list(working_copy.with_translation_state(Entry.objects.all()))
    assert {e.generic_name: working_copy.translation_state(e) for e in rows}["Aspirin"] == (False, False, True)


def test_the_boxed_warning_translation_goes_stale_and_is_checked_on_the_entry_form(client, aspirin, editor):
    client.force_login(editor)
    save(client, aspirin, "Warning", boxed_warning="Do not use in children.", boxed_warning_zh="兒童不宜使用。")
    assert Entry.objects.get(pk=aspirin.pk).boxed_warning_translation == TranslationStatus.CURRENT
    save(client, aspirin, "Warning widened", boxed_warning="Do not use in children under 16.")
    assert Entry.objects.get(pk=aspirin.pk).boxed_warning_translation == TranslationStatus.STALE
    response = client.get(reverse("admin:monographs_entry_changelist"), {"chinese": "stale"})
    assert [e.generic_name for e in response.context["cl"].result_list] == ["Aspirin"]
    data = change_form_data(client.get(admin_entry_url(aspirin)))
    refused = client.post(admin_entry_url(aspirin), {**data, "change_reason": "Unseen", "boxed_warning_checked": "on"})
    assert refused.status_code == 200 and "boxed_warning_checked" in refused.context["adminform"].form.errors
    assert Entry.objects.get(pk=aspirin.pk).boxed_warning_translation == TranslationStatus.STALE
    save(client, aspirin, "Checked", boxed_warning_checked="on", boxed_warning_compared="1")
    assert Entry.objects.get(pk=aspirin.pk).boxed_warning_translation == TranslationStatus.CURRENT


def test_readers_see_the_translation_status_without_the_tick(client, translated, reader):
    client.force_login(reader)
    response = client.get(admin_entry_url(translated))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Up to date" in page
    assert "translation_checked" not in page


# Approval ---------------------------------------------------------------------------------


@pytest.fixture
def stale_in_review(client, translated, editor):
    save(client, translated, "Storage advice changed", storage__body="Store below 30 °C.")
    workflow.submit(entry=translated, user=editor, comment="Ready")
    return translated


def decide(client, entry, **extra):
    form = client.get(admin_entry_url(entry, "review")).context["form"]
    data = {
        "decision": "approve",
        "comment": "Checked",
        "revision": form["revision"].value(),
        "seen": form["seen"].value(),
        **extra,
    }
    return client.post(admin_entry_url(entry, "review"), data)


def test_approval_with_a_stale_translation_is_refused_without_the_tick_and_recorded_with_it(
    client, stale_in_review, reviewer
):
    client.force_login(reviewer)
    page = client.get(admin_entry_url(stale_in_review, "review")).content.decode()
    assert "Publish with the Chinese text marked as outdated" in page
    assert 'data-translation="stale"' in page

    response = decide(client, stale_in_review)

    assert response.status_code == 200
    assert (
        "Not approved: the Chinese text of “Storage and duration” was translated from older English"
        in response.content.decode()
    )
    assert working_copy.state_of(stale_in_review.pk).state == State.IN_REVIEW
    assert not stale_in_review.editions.exists()
    assert not AuditEvent.objects.filter(entry=stale_in_review, action=AuditEvent.Action.APPROVED).exists()

    response = decide(client, stale_in_review, publish_outdated_chinese="on")

    assert response.status_code == 302
    assert working_copy.state_of(stale_in_review.pk).state == State.PUBLISHED
    event = AuditEvent.objects.get(entry=stale_in_review, action=AuditEvent.Action.APPROVED)
    assert event.comment == "Checked\nPublished with outdated Chinese text: “Storage and duration”"


def test_the_workflow_refuses_stale_chinese_without_acceptance(stale_in_review, reviewer):
    revision = working_copy.submitted_revision(stale_in_review)
    with pytest.raises(workflow.StaleTranslationError) as refused:
        workflow.approve(entry=stale_in_review, user=reviewer, revision=revision, comment="OK")
    assert refused.value.sections == ["Storage and duration"]
    assert working_copy.state_of(stale_in_review.pk).state == State.IN_REVIEW


def test_missing_translations_need_no_tick(client, aspirin, editor, reviewer):
    workflow.submit(entry=aspirin, user=editor)
    client.force_login(reviewer)
    page = client.get(admin_entry_url(aspirin, "review")).content.decode()
    assert "This version has no Chinese text" in page
    assert "Publish with the Chinese text marked as outdated" not in page
    assert decide(client, aspirin).status_code == 302
    assert working_copy.state_of(aspirin.pk).state == State.PUBLISHED


def test_the_review_diff_labels_chinese_fields_and_marks_characters(client, translated, editor, reviewer):
    workflow.submit(entry=translated, user=editor)
    client.force_login(reviewer)
    assert decide(client, translated).status_code == 302
    client.force_login(editor)
    save(client, translated, "Chinese wording", overview__body_zh="阿士匹靈可紓緩痛楚及發燒。")
    workflow.submit(entry=translated, user=editor)
    client.force_login(reviewer)
    page = client.get(admin_entry_url(translated, "review")).content.decode()
    assert "Body (Chinese)" in page
    assert "<del>退</del>" in page and "<ins>發</ins>" in page
    assert "translated from" not in page.lower()  # the fingerprint is bookkeeping, not shown as a change
