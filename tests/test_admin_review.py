"""The review screens in the admin: queue, review page with word diff, compare,
conflict-safe saves, the read-only audit log, due-for-review filter and email."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from monographs import outbox, workflow, working_copy
from monographs.models import AuditEvent, Entry, EntryState, OutboxMail, Section, State, Strength
from monographs.services import drug_class_for

from .admin_forms import change_form_data
from .factories import admin_entry_url
from .job_queue import run_jobs


def login(client, user):
    client.force_login(user)
    return client


def decide(client, entry, decision, comment):
    """Open the review page and press approve or reject, as a reviewer does: the form
    sends the revision the page showed."""
    form = client.get(admin_entry_url(entry, "review")).context["form"]
    return client.post(
        admin_entry_url(entry, "review"),
        {
            "decision": decision,
            "comment": comment,
            "revision": form["revision"].value(),
            "seen": form["seen"].value(),
        },
    )


def save_entry_with(client, entry, *, storage=None, drug_class=None, reason="Edit", data=None):
    data = data or change_form_data(client.get(admin_entry_url(entry)))
    if storage is not None:
        index = next(i for i in range(20) if data.get(f"sections-{i}-kind") == "storage")
        data[f"sections-{index}-body"] = storage
    if drug_class is not None:
        # The entry screen offers the drug classes as a choice; pick (or first make) this one.
        data["drug_class"] = str(drug_class_for(drug_class).pk)
    data["change_reason"] = reason
    return client.post(admin_entry_url(entry), data)


def test_editor_submits_from_the_entry_page_and_reviewers_are_emailed(
    client, lenalidomide, editor, reviewer, django_capture_on_commit_callbacks
):
    login(client, editor)
    page = client.get(admin_entry_url(lenalidomide)).content.decode()
    assert "Submit the saved version for review" in page and "Save and submit for review" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_entry_url(lenalidomide, "submit"), {"comment": "New storage advice"})

    assert response.status_code == 302
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW
    assert mail.outbox == []  # queued in the outbox, sent by the worker
    run_jobs("send_mail")
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    assert "Lenalidomide submitted for review" in mail.outbox[0].subject


def test_queue_lists_oldest_first_with_author_and_age(client, lenalidomide, editor, reviewer):
    from monographs.services import entry_import_text

    other = entry_import_text(generic_name="Thalidomide", text="Thalidomide is an older imide drug.\n").entry
    workflow.submit(entry=other, user=editor)
    workflow.submit(entry=lenalidomide, user=editor)
    EntryState.objects.filter(entry=other).update(submitted_at=timezone.now() - datetime.timedelta(days=3))

    page = login(client, reviewer).get(reverse("admin:monographs_entry_review_queue")).content.decode()

    assert page.index("Thalidomide") < page.index("Lenalidomide")
    assert "editor" in page and "3\xa0days" in page


def test_review_page_highlights_words_and_approval_publishes(
    client, published_lenalidomide, editor2, reviewer2, django_capture_on_commit_callbacks
):
    login(client, editor2)
    old = published_lenalidomide.sections.get(kind="storage").body
    new = old.replace("cool, dry environment", "refrigerated environment")
    assert save_entry_with(client, published_lenalidomide, storage=new, reason="Fridge storage").status_code == 302
    client.post(admin_entry_url(published_lenalidomide, "submit"))

    login(client, reviewer2)
    page = client.get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert "<del>cool, dry</del>" in page.replace("<del>cool</del><del>, dry</del>", "<del>cool, dry</del>")
    assert "<ins>refrigerated</ins>" in page
    assert "Storage and duration" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, published_lenalidomide, "approve", "Agree with fridge")
    assert response.status_code == 302
    assert "refrigerated environment" in client.get("/en/entries/lenalidomide/").content.decode()
    run_jobs("send_mail")
    assert any("approved" in m.subject and m.to == [editor2.email] for m in mail.outbox)


def test_review_page_refuses_approval_by_the_author(client, lenalidomide, make_editor_reviewer, editor):
    senior = make_editor_reviewer
    login(client, senior)
    save_entry_with(client, lenalidomide, drug_class="Thalidomide analogue", reason="class")
    workflow.submit(entry=lenalidomide, user=editor)

    page = client.get(admin_entry_url(lenalidomide, "review")).content.decode()
    assert "four-eyes" in page
    response = decide(client, lenalidomide, "approve", "mine")
    assert response.status_code == 403
    assert "four-eyes" in response.content.decode()
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW


def test_reject_needs_a_comment_and_the_author_sees_it(
    client, lenalidomide, editor, reviewer, django_capture_on_commit_callbacks
):
    login(client, editor)
    save_entry_with(client, lenalidomide, drug_class="IMiD", reason="Shorter class name")
    workflow.submit(entry=lenalidomide, user=editor)
    login(client, reviewer)

    response = decide(client, lenalidomide, "reject", "")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, lenalidomide, "reject", "Use the full class name")
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT
    run_jobs("send_mail")
    assert any("rejected" in m.subject and m.to == [editor.email] for m in mail.outbox)
    page = login(client, editor).get(admin_entry_url(lenalidomide)).content.decode()
    assert "Use the full class name" in page


def test_compare_view_shows_added_and_removed_words_and_a_changed_strength(client, lenalidomide, superuser):
    login(client, superuser)
    before = Version.objects.get_for_object(lenalidomide).first().revision
    section = lenalidomide.sections.get(kind="side_effects")
    data = change_form_data(client.get(admin_entry_url(lenalidomide)))
    index = next(i for i in range(20) if data.get(f"sections-{i}-id") == section.pk)
    data[f"sections-{index}-body"] = section.body.replace("transient fatigue", "persistent tiredness")
    data["change_reason"] = "Wording"
    assert client.post(admin_entry_url(lenalidomide), data).status_code == 302
    strength = Strength.objects.get(product__name="Revlimid", amount=10)
    product_url = reverse("admin:monographs_product_change", args=[strength.product_id])
    data = change_form_data(client.get(product_url))
    index = next(i for i in range(6) if data[f"strengths-{i}-id"] == strength.pk)
    data[f"strengths-{index}-pack_size"] = "28 capsules"
    data["change_reason"] = "New pack"
    assert client.post(product_url, data).status_code == 302
    after = Version.objects.get_for_object(lenalidomide).first().revision

    page = client.get(admin_entry_url(lenalidomide, "compare"), {"old": before.pk, "new": after.pk}).content.decode()

    assert "<del>transient</del>" in page and "<ins>persistent</ins>" in page
    assert "<del>fatigue</del>" in page and "<ins>tiredness</ins>" in page
    assert "10 mg capsule" in page
    # Old and new values stay apart in the page's text: "21 28 capsules", not "2128 capsules".
    # Before and after side by side: "21 capsules" and "28 capsules" each read as itself.
    assert (
        '<td class="diff-before"><del>21</del> capsules</td>\n<td class="diff-after"><ins>28</ins> capsules</td>'
        in page
    )


def test_compare_view_refuses_foreign_or_missing_versions(client, lenalidomide, superuser):
    login(client, superuser)
    assert client.get(admin_entry_url(lenalidomide, "compare")).status_code == 400
    assert client.get(admin_entry_url(lenalidomide, "compare"), {"old": "x", "new": "1"}).status_code == 400
    assert client.get(admin_entry_url(lenalidomide, "compare"), {"old": 999999, "new": 999998}).status_code == 404


def test_second_of_two_concurrent_saves_is_refused_and_keeps_its_input(client, lenalidomide, editor, editor2):
    from django.test import Client

    first, second = Client(), Client()
    login(first, editor)
    login(second, editor2)
    form_first = change_form_data(first.get(admin_entry_url(lenalidomide)))
    form_second = change_form_data(second.get(admin_entry_url(lenalidomide)))

    assert save_entry_with(first, lenalidomide, drug_class="First editor's class", data=form_first).status_code == 302
    response = save_entry_with(
        second, lenalidomide, storage="Second editor's storage text", reason="Mine", data=form_second
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed this entry after you opened it" in page
    assert "editor" in page and "Changed: Drug class" in page
    assert "Second editor&#x27;s storage text" in page  # their input stays on the form
    section = Section.objects.get(entry=lenalidomide, kind="storage")
    assert "Second editor" not in section.body
    lenalidomide.refresh_from_db()
    assert lenalidomide.drug_class.name == "First editor's class"

    # Having seen the message, they merge and save again: now it is accepted.
    merged = change_form_data(response)
    merged["drug_class"] = str(lenalidomide.drug_class_id)  # the first editor's class, chosen
    merged["change_reason"] = "Merged"
    assert second.post(admin_entry_url(lenalidomide), merged).status_code == 302
    lenalidomide.refresh_from_db()
    assert lenalidomide.drug_class.name == "First editor's class"
    assert Section.objects.get(pk=section.pk).body == "Second editor's storage text"


def test_audit_log_is_read_only_in_the_admin_even_for_superusers(client, published_lenalidomide, superuser):
    login(client, superuser)
    event = AuditEvent.objects.first()
    changelist = client.get(reverse("admin:monographs_auditevent_changelist"))
    assert changelist.status_code == 200 and "Approved and published" in changelist.content.decode()
    assert client.get(reverse("admin:monographs_auditevent_add")).status_code == 403
    change_url = reverse("admin:monographs_auditevent_change", args=[event.pk])
    assert client.post(change_url, {"comment": "tampered"}).status_code == 403
    assert (
        client.post(reverse("admin:monographs_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    bulk = client.post(
        reverse("admin:monographs_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk, comment=event.comment).exists()


def test_history_shows_versions_and_state_changes(client, published_lenalidomide, superuser):
    page = login(client, superuser).get(admin_entry_url(published_lenalidomide, "history")).content.decode()
    assert "Submitted for review" in page and "Approved and published" in page
    assert "Checked against the PI" in page
    assert "Compare two versions" in page


def test_review_due_filter(client, published_lenalidomide, superuser):
    login(client, superuser)
    url = reverse("admin:monographs_entry_changelist")
    assert client.get(url, {"review_due": "overdue"}).context["cl"].result_count == 0
    EntryState.objects.filter(entry=published_lenalidomide).update(
        next_review_due=timezone.localdate() + datetime.timedelta(days=10)
    )
    assert client.get(url, {"review_due": "30days"}).context["cl"].result_count == 1
    EntryState.objects.filter(entry=published_lenalidomide).update(
        next_review_due=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert client.get(url, {"review_due": "overdue"}).context["cl"].result_count == 1
    assert client.get(url, {"review_due": "30days"}).context["cl"].result_count == 0


@pytest.mark.parametrize("interval", [365])
def test_review_interval_is_configurable(lenalidomide, editor, reviewer, settings, interval):
    settings.FORMULARY_REVIEW_INTERVAL_DAYS = interval
    workflow.submit(entry=lenalidomide, user=editor)
    workflow.approve(
        entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment="ok"
    )
    state = EntryState.objects.get(entry=lenalidomide)
    assert state.next_review_due == timezone.localdate() + datetime.timedelta(days=interval)


def test_deleting_a_product_is_an_edit_that_needs_review(client, published_lenalidomide, editor2, reviewer2):
    product = published_lenalidomide.products.get(name__contains="Teva")
    login(client, editor2)
    before = Version.objects.get_for_object(published_lenalidomide).count()

    response = client.post(reverse("admin:monographs_product_delete", args=[product.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert Version.objects.get_for_object(published_lenalidomide).count() == before + 1
    assert EntryState.objects.get(entry=published_lenalidomide).state == State.DRAFT
    # Still on the public page until a reviewer approves the deletion.
    assert "Teva" in client.get("/en/entries/lenalidomide/").content.decode()
    workflow.submit(entry=published_lenalidomide, user=editor2)
    page = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert "removed" in page and "Teva" in page
    workflow.approve(
        entry=published_lenalidomide,
        revision=working_copy.submitted_revision(published_lenalidomide),
        user=reviewer2,
        comment="Product discontinued",
    )
    page = client.get("/en/entries/lenalidomide/").content.decode()
    # Gone from the products and strengths; only the edition history says that it was removed.
    assert "Teva" not in page.split('id="about"')[0]
    assert "removed Lenalidomide Capsules (Teva)." in page


def test_a_product_cannot_be_moved_to_another_entry(client, lenalidomide, editor):
    product = lenalidomide.products.first()
    page = login(client, editor).get(reverse("admin:monographs_product_change", args=[product.pk]))
    assert "entry" not in page.context["adminform"].form.fields


def test_a_failing_mail_server_does_not_undo_or_break_a_decision(client, lenalidomide, editor, reviewer, settings):
    # The editor's edit makes them an author with an address, so the rejection is mailed.
    login(client, editor)
    assert save_entry_with(client, lenalidomide, drug_class="Imide", reason="Class").status_code == 302
    workflow.submit(entry=lenalidomide, user=editor)
    settings.EMAIL_BACKEND = "tests.failing_mail.EmailBackend"
    login(client, reviewer)

    response = decide(client, lenalidomide, "reject", "Redo")

    assert response.status_code == 302
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT
    page = client.get(response.url).content.decode()
    assert f"Mail queued for: {editor.get_full_name() or editor.username}" in page
    # The worker's attempt fails; the mail stays queued with the error, for a retry.
    run_jobs("send_mail", errors="keep")
    rejection = OutboxMail.objects.get(kind="rejected")
    assert rejection.status == OutboxMail.Status.QUEUED and rejection.attempts == 1
    assert "mail server unreachable" in rejection.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox.send(rejection.pk)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox if "rejected" in m.subject] == [rejection.message_id]


def test_a_name_that_cannot_be_a_mail_header_fails_the_mail_for_good_not_the_submission(
    client, lenalidomide, editor, reviewer
):
    # A line break cannot go into the mail subject: BadHeaderError, the same on every try.
    Entry.objects.filter(pk=lenalidomide.pk).update(generic_name="Lenalidomide\r\nBcc: someone@example.org")
    login(client, editor)

    response = client.post(admin_entry_url(lenalidomide, "submit"), {"comment": "Please check"}, follow=True)

    assert response.status_code == 200
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW
    run_jobs("send_mail", errors="keep")
    submitted = OutboxMail.objects.get(kind="submitted")
    assert submitted.status == OutboxMail.Status.FAILED and "BadHeaderError" in submitted.last_error
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_submission_message_names_who_was_emailed(client, lenalidomide, editor, reviewer):
    login(client, editor)
    response = client.post(admin_entry_url(lenalidomide, "submit"), follow=True)
    page = response.content.decode()
    name = reviewer.get_full_name() or reviewer.username
    assert f"Submitted for review. Mail queued for: {name} &lt;{reviewer.email}&gt;." in page
    assert "Reviewers have been notified" not in page


@pytest.mark.django_db(transaction=True)
def test_the_messages_say_when_nobody_could_be_emailed(client, lenalidomide, editor, reviewer):
    User = get_user_model()
    User.objects.filter(pk__in=[editor.pk, reviewer.pk]).update(email="")
    login(client, editor)
    assert save_entry_with(client, lenalidomide, drug_class="Imide", reason="Class").status_code == 302
    page = client.post(admin_entry_url(lenalidomide, "submit"), follow=True).content.decode()
    assert "Submitted for review. No reviewer could be emailed (none has an email address); tell them yourself." in page
    assert mail.outbox == []

    login(client, reviewer)
    response = decide(client, lenalidomide, "reject", "Redo the storage advice")
    page = client.get(response.url).content.decode()
    assert "Rejected. Nobody could be emailed (no email address): tell the author why yourself." in page
    assert "the author was told why" not in page


def test_review_shows_a_changed_section_kind(client, published_lenalidomide, editor2, reviewer2):
    login(client, editor2)
    data = change_form_data(client.get(admin_entry_url(published_lenalidomide)))
    index = next(i for i in range(20) if data.get(f"sections-{i}-kind") == "seek_help")
    data[f"sections-{index}-kind"] = "side_effects"
    data["change_reason"] = "Merge into side effects"
    assert client.post(admin_entry_url(published_lenalidomide), data).status_code == 302
    workflow.submit(entry=published_lenalidomide, user=editor2)
    page = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    # The kind is compared as its label: "When to seek medical help" became "Side effects".
    assert (
        '<span class="field-label">Kind:</span> <span class="diff-before"><del>When</del> '
        '<del>to seek medical help</del></span> → <span class="diff-after"><ins>Side</ins> <ins>effects</ins></span>'
    ) in page


def test_single_person_install_sees_the_approve_button(client, lenalidomide, make_editor_reviewer, settings):
    settings.FORMULARY_ALLOW_SELF_APPROVAL = True
    senior = make_editor_reviewer
    login(client, senior)
    save_entry_with(client, lenalidomide, drug_class="Thalidomide analogue", reason="class")
    workflow.submit(entry=lenalidomide, user=senior)
    page = client.get(admin_entry_url(lenalidomide, "review")).content.decode()
    assert "Approve and publish" in page


def test_withdrawn_entry_is_reviewed_against_its_last_edition(client, published_lenalidomide, editor2, reviewer2):
    workflow.withdraw(entry=published_lenalidomide, user=reviewer2, comment="Recall")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    page = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert "Compared with edition 1" in page
    assert "(added)" not in page


def test_malformed_admin_addresses_are_not_server_errors(client, superuser):
    login(client, superuser)
    for path in ["/admin/monographs/entry/abc/change/", "/admin/monographs/entry/abc/history/"]:
        assert client.get(path).status_code in (302, 404)


def test_entry_list_links_to_the_review_queue_with_its_size(client, lenalidomide, editor, reviewer):
    workflow.submit(entry=lenalidomide, user=editor)
    page = login(client, reviewer).get(reverse("admin:monographs_entry_changelist")).content.decode()
    assert "1 entry awaiting review" in page
    assert reverse("admin:monographs_entry_review_queue") in page


def test_approving_an_open_review_page_after_the_editor_resubmitted_is_refused_with_a_link(
    client, published_lenalidomide, editor2, reviewer2
):
    """The race: the reviewer reads version 1, the editor changes the body and
    submits version 2, the reviewer presses Approve on the page still open."""
    editor_client = login(type(client)(), editor2)
    storage = published_lenalidomide.sections.get(kind="storage").body
    save_entry_with(editor_client, published_lenalidomide, storage=storage + " Take the usual dose.", reason="Dose")
    editor_client.post(admin_entry_url(published_lenalidomide, "submit"))
    login(client, reviewer2)
    form = client.get(admin_entry_url(published_lenalidomide, "review")).context["form"]
    shown, seen = form["revision"].value(), form["seen"].value()

    save_entry_with(editor_client, published_lenalidomide, storage=storage + " Take 10x the dose.", reason="Dose")
    editor_client.post(admin_entry_url(published_lenalidomide, "submit"))
    assert EntryState.objects.get(entry=published_lenalidomide).state == State.IN_REVIEW

    response = client.post(
        admin_entry_url(published_lenalidomide, "review"),
        {"decision": "approve", "comment": "Looks right", "revision": shown, "seen": seen},
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "no longer the one awaiting review" in page
    assert f'href="{admin_entry_url(published_lenalidomide, "review")}"' in page
    assert "10x the dose" not in client.get("/en/entries/lenalidomide/").content.decode()
    assert published_lenalidomide.editions.count() == 1
    assert not AuditEvent.objects.filter(entry=published_lenalidomide, action="approved", actor=reviewer2).exists()

    # Reviewing the version now awaiting review works as usual.
    assert decide(client, published_lenalidomide, "approve", "Checked the new dose").status_code == 302
    assert "10x the dose" in client.get("/en/entries/lenalidomide/").content.decode()


def test_a_decision_without_the_reviewed_revision_is_a_form_error(client, lenalidomide, editor, reviewer):
    workflow.submit(entry=lenalidomide, user=editor)
    login(client, reviewer)
    response = client.post(admin_entry_url(lenalidomide, "review"), {"decision": "approve", "comment": "ok"})
    assert response.status_code == 200
    assert "reload it" in response.content.decode()
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW


@pytest.mark.parametrize(
    ("comment", "message"),
    [("Please check\x00", "Null characters are not allowed"), ("x" * 1001, "at most 1000 characters")],
    ids=["nul", "too-long"],
)
def test_a_bad_submit_note_is_refused_with_a_message_and_nothing_submitted(
    client, lenalidomide, editor, comment, message
):
    # The submit view read the note without a form; a NUL reached PostgreSQL as a 500.
    response = login(client, editor).post(admin_entry_url(lenalidomide, "submit"), {"comment": comment})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not submitted" in page and message in page
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT
    assert not AuditEvent.objects.filter(entry=lenalidomide, action=AuditEvent.Action.SUBMITTED).exists()


def test_the_submit_note_field_tells_the_browser_its_limit(client, lenalidomide, editor):
    page = login(client, editor).get(admin_entry_url(lenalidomide)).content.decode()
    assert '<input type="text" name="comment" size="50" id="submit-comment" maxlength="1000">' in page


# Content checks --------------------------------------------------------------


def test_the_entry_page_lists_the_content_check_findings_before_submit(client, lenalidomide, editor):
    page = login(client, editor).get(admin_entry_url(lenalidomide)).content.decode()
    assert "Content checks" in page and "Submit the saved version for review" in page
    expected = "Warning</strong> · Uses and indications: “Beyond its role in myeloma, this substance is indicated for:”"
    assert expected in page


def test_a_blocking_finding_refuses_the_admin_submit_with_the_list_and_submits_nothing(
    client, lenalidomide, editor, settings
):
    settings.FORMULARY_CONTENT_CHECKS = {**settings.FORMULARY_CONTENT_CHECKS, "empty_list": "blocking"}
    response = login(client, editor).post(admin_entry_url(lenalidomide, "submit"), {"comment": "Ready"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "the content checks found 1 problem that must be fixed first" in page
    assert 'data-check="empty_list"' in page and "this substance is indicated for:" in page
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT
    assert not AuditEvent.objects.filter(entry=lenalidomide, action=AuditEvent.Action.SUBMITTED).exists()


def test_a_warning_is_shown_to_the_reviewer_on_the_review_page(client, lenalidomide, editor, reviewer):
    login(client, editor).post(admin_entry_url(lenalidomide, "submit"), {"comment": "Ready"})
    assert EntryState.objects.get(entry=lenalidomide).state == State.IN_REVIEW

    response = login(client, reviewer).get(admin_entry_url(lenalidomide, "review"))
    assert [(f.code, f.level) for f in response.context["findings"]] == [("empty_list", "warning")]
    page = response.content.decode()
    assert 'data-check="empty_list"' in page and "this substance is indicated for:" in page
    assert "Approve and publish" in page


# Save and submit: one press saves with the reason and submits what was just saved.


def test_save_and_submit_submits_the_version_just_saved(client, lenalidomide, editor):
    login(client, editor)
    data = change_form_data(client.get(admin_entry_url(lenalidomide)))
    data["atc_code"] = "L04AX99"
    data["change_reason"] = "Corrected ATC code"
    data["review_note"] = "Only the ATC code"
    data["_saveandsubmit"] = "Save and submit for review"

    response = client.post(admin_entry_url(lenalidomide), data, follow=True)

    assert response.redirect_chain[-1][0] == admin_entry_url(lenalidomide)
    state = EntryState.objects.get(entry=lenalidomide)
    assert state.state == State.IN_REVIEW
    latest = working_copy.latest_revision(lenalidomide)
    assert state.submitted_revision == latest and latest.comment == "Corrected ATC code"
    assert latest.version_set.get(content_type__model="entry").field_dict["atc_code"] == "L04AX99"
    event = AuditEvent.objects.filter(entry=lenalidomide).first()
    assert (event.action, event.comment) == (AuditEvent.Action.SUBMITTED, "Only the ATC code")
    assert "Saved and submitted for review." in response.content.decode()


def test_save_and_submit_with_an_invalid_form_neither_saves_nor_submits(client, lenalidomide, editor):
    login(client, editor)
    data = change_form_data(client.get(admin_entry_url(lenalidomide)))
    data["atc_code"] = "L04AX99"
    data.pop("change_reason", None)
    data["_saveandsubmit"] = "Save and submit for review"

    response = client.post(admin_entry_url(lenalidomide), data)

    assert response.status_code == 200
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT
    assert Entry.objects.get(pk=lenalidomide.pk).atc_code != "L04AX99"


def test_the_separate_submit_form_refuses_when_the_entry_was_saved_since_the_page_was_opened(
    client, lenalidomide, editor
):
    login(client, editor)
    form = client.get(admin_entry_url(lenalidomide)).context["submit_form"]
    shown = form["revision"].value()
    assert shown == working_copy.latest_revision(lenalidomide).pk
    # Saved again (another tab, another person) after the page was opened.
    assert save_entry_with(client, lenalidomide, drug_class="Imide", reason="Class").status_code == 302

    response = client.post(admin_entry_url(lenalidomide, "submit"), {"revision": shown})

    assert response.status_code == 409
    assert EntryState.objects.get(entry=lenalidomide).state == State.DRAFT


# The review page: all reasons and notes, labels, plain-text diff, preview.


def _change_pack_size(client, entry, pack_size, reason):
    from .admin_forms import formset_prefix

    data = change_form_data(client.get(admin_entry_url(entry)))
    data[f"{formset_prefix(data, 'registration_number', 'HK-90101')}-pack_size"] = pack_size
    data["change_reason"] = reason
    assert client.post(admin_entry_url(entry), data).status_code == 302


def _page_text(html):
    import re

    from django.utils.html import strip_tags

    return re.sub(r"\s+", " ", strip_tags(html))


def test_review_diff_of_a_pack_size_reads_as_text_with_old_and_new_apart(
    client, published_lenalidomide, editor2, reviewer2
):
    Strength.objects.filter(registration_number="HK-90101").update(pack_size="21 capsules")
    login(client, editor2)
    _change_pack_size(client, published_lenalidomide, "21 capsules", "Pack as registered")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    workflow.approve(
        entry=published_lenalidomide,
        user=reviewer2,
        revision=working_copy.submitted_revision(published_lenalidomide),
        comment="ok",
    )
    _change_pack_size(client, published_lenalidomide, "7 capsules", "Smaller pack")
    workflow.submit(entry=published_lenalidomide, user=editor2)

    page = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    text = _page_text(page)

    # The row reads "Pack size 21 capsules 7 capsules", the label in words, never "217 capsules".
    assert "Pack size 21 capsules 7 capsules" in text
    assert "217" not in text and "pack_size" not in page


def test_review_page_lists_every_reason_and_note_since_the_live_edition(
    client, published_lenalidomide, editor2, reviewer2
):
    login(client, editor2)
    assert save_entry_with(client, published_lenalidomide, storage="Store cool.", reason="First reason").status_code
    workflow.submit(entry=published_lenalidomide, user=editor2, comment="Please look at storage")
    workflow.reject(
        entry=published_lenalidomide,
        user=reviewer2,
        revision=working_copy.submitted_revision(published_lenalidomide),
        comment="Say which temperature",
    )
    assert save_entry_with(client, published_lenalidomide, storage="Store below 25 °C.", reason="Second reason")
    workflow.submit(entry=published_lenalidomide, user=editor2, comment="Temperature added")

    text = _page_text(login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode())

    order = [
        "First reason",
        "Please look at storage",
        "Say which temperature",
        "Second reason",
        "Temperature added",
    ]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)
    # The publication's own reasons (before the live edition) are not listed again.
    assert "Demo data" not in text.split("Reasons and notes since the live edition")[1].split("Entry details")[0]
    assert "editor2" in text


def test_changed_sections_are_open_and_unchanged_ones_folded(client, published_lenalidomide, editor2, reviewer2):
    login(client, editor2)
    assert save_entry_with(client, published_lenalidomide, storage="Store cool.", reason="Storage").status_code
    workflow.submit(entry=published_lenalidomide, user=editor2)
    page = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert page.count('<details class="change change-changed" open>') == 1
    assert page.count('<details class="change change-same">') >= 10


def test_preview_renders_the_submitted_version_with_the_public_templates_in_both_languages(
    client, published_lenalidomide, editor2, reviewer2, reader
):
    login(client, editor2)
    _change_pack_size(client, published_lenalidomide, "7 capsules", "Smaller pack")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    preview = admin_entry_url(published_lenalidomide, "preview")

    review = login(client, reviewer2).get(admin_entry_url(published_lenalidomide, "review")).content.decode()
    assert f'href="{preview}?language=en"' in review and f'href="{preview}?language=zh-hant"' in review

    english = client.get(preview, {"language": "en"})
    assert english.status_code == 200
    assert "monographs/entry_detail.html" in [t.name for t in english.templates]
    assert "monographs/_monograph.html" in [t.name for t in english.templates]
    assert "7 capsules" in _page_text(english.content.decode())
    assert '<html lang="en"' in english.content.decode()
    # As on the public page: who approved (nobody yet), what this version changes, the history.
    text = _page_text(english.content.decode())
    assert "Not yet published — preview of version 2" in text
    assert "Edition 2 of this monograph is awaiting approval" in text and "was approved on" not in text
    assert "Edition 1" in text
    chinese = client.get(preview, {"language": "zh-hant"}).content.decode()
    # The pack reads with its Chinese measure word (「7 粒」).
    assert '<html lang="zh-Hant"' in chinese and "香港註冊產品" in chinese and "7 粒" in chinese
    # The public page still shows the live edition, not the submitted version.
    assert "7 capsules" not in client.get(f"/en/entries/{published_lenalidomide.slug}/").content.decode()

    # Staff only: readers may look; someone signed out is sent to the login.
    assert login(client, reader).get(preview).status_code == 200
    client.logout()
    response = client.get(preview)
    assert response.status_code == 302 and "/login/" in response.url


def test_history_marks_the_edition_each_version_became_and_offers_restore_only_to_editors(
    client, published_lenalidomide, editor2, reader
):
    history = admin_entry_url(published_lenalidomide, "history")
    approved = working_copy.latest_revision(published_lenalidomide)
    page = login(client, editor2).get(history).content.decode()
    assert "edition 1" in _page_text(page)
    assert approved.comment in page
    assert "restoring makes it the new draft" in page
    assert "Press the save button below to revert" not in page

    page = login(client, reader).get(history).content.decode()
    assert "restoring" not in page.lower() and "Open a version to read it." in page
    version = Version.objects.get_for_object(published_lenalidomide).first()
    revision_page = client.get(
        reverse("admin:monographs_entry_revision", args=[published_lenalidomide.pk, version.pk])
    ).content.decode()
    assert "Only editors can restore it." in revision_page
    assert "Press the save button below to revert" not in revision_page


def test_the_admin_home_shows_reviewers_the_queue_and_overdue_entries(
    client, published_lenalidomide, lenalidomide, editor, reviewer, reader
):
    from monographs.services import entry_import_text

    other = entry_import_text(generic_name="Thalidomide", text="Thalidomide is an older imide drug.\n").entry
    workflow.submit(entry=other, user=editor)
    EntryState.objects.filter(entry=other).update(submitted_at=timezone.now() - datetime.timedelta(days=3))
    EntryState.objects.filter(entry=published_lenalidomide).update(
        next_review_due=timezone.localdate() - datetime.timedelta(days=40)
    )

    home = reverse("admin:index")
    text = _page_text(login(client, reviewer).get(home).content.decode())
    assert "1 entry awaiting review" in text and "Review Thalidomide" in text and "3 days" in text
    assert "1 entry overdue for periodic review" in text and "Lenalidomide" in text

    text = _page_text(login(client, editor).get(home).content.decode())
    assert "awaiting review" not in text and "1 entry overdue for periodic review" in text

    text = _page_text(login(client, reader).get(home).content.decode())
    assert "awaiting review" not in text and "overdue" not in text


def test_review_page_in_zh_hant_labels_fields_in_chinese(client, published_lenalidomide, editor2, reviewer2):
    login(client, editor2)
    _change_pack_size(client, published_lenalidomide, "7 capsules", "Smaller pack")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    page = (
        login(client, reviewer2)
        .get(admin_entry_url(published_lenalidomide, "review"), HTTP_ACCEPT_LANGUAGE="zh-hant")
        .content.decode()
    )
    text = _page_text(page)
    assert "包裝 21 capsules 7 capsules" in text
    assert "之前" in text and "之後" in text and "自現行版本以來的更改原因及備註" in text
    assert "Pack size" not in text
