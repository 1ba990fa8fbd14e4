"""Every transition of the review workflow, allowed and refused, and what the
public sees at each step."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from reversion.models import Version

from monographs import services, workflow, working_copy
from monographs.models import AuditEvent, Edition, EntryState, ImmutableRecordError, State


def state_of(entry):
    return EntryState.objects.get(entry=entry).state


def edit_section(entry, user, text, kind="storage"):
    """Change one section's body the way an editor's save does: one revision with a reason."""
    import reversion

    with transaction.atomic(), reversion.create_revision():
        section = entry.sections.get(kind=kind)
        section.body = text
        section.full_clean()
        section.save()
        reversion.set_user(user)
        reversion.set_comment(f"Edit by {user}")


def public_text(client, slug="lenalidomide"):
    response = client.get(f"/en/entries/{slug}/")
    return response.status_code, response.content.decode()


# Allowed transitions -------------------------------------------------------


def test_new_entry_starts_as_unpublished_draft(lenalidomide, client):
    assert state_of(lenalidomide) == State.DRAFT
    assert public_text(client)[0] == 404


def test_submit_then_approve_publishes_an_edition_of_the_submitted_revision(lenalidomide, editor, reviewer, client):
    submitted = Version.objects.get_for_object(lenalidomide).first().revision
    workflow.submit(entry=lenalidomide, user=editor, comment="Please check")
    assert state_of(lenalidomide) == State.IN_REVIEW

    event = workflow.approve(
        entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment="Looks right"
    )

    state = EntryState.objects.get(entry=lenalidomide)
    assert state.state == State.PUBLISHED
    assert state.live_edition.revision == submitted
    assert state.live_edition.number == 1
    assert state.live_edition.approved_by == reviewer
    # The review date counts from the Hong Kong calendar day of approval, not the UTC one.
    assert state.next_review_due - timezone.localdate(state.live_edition.approved_at) == workflow.review_interval()
    assert event.action == AuditEvent.Action.APPROVED and event.edition == state.live_edition
    status, html = public_text(client)
    assert status == 200 and "Lenalidomide" in html


def test_reject_returns_to_draft_with_the_reviewers_comment(lenalidomide, editor, reviewer):
    workflow.submit(entry=lenalidomide, user=editor)
    workflow.reject(
        entry=lenalidomide,
        revision=working_copy.submitted_revision(lenalidomide),
        user=reviewer,
        comment="Storage text is outdated",
    )
    assert state_of(lenalidomide) == State.DRAFT
    event = AuditEvent.objects.filter(entry=lenalidomide).first()
    assert (event.action, event.from_state, event.to_state, event.actor, event.comment) == (
        "rejected",
        "in_review",
        "draft",
        reviewer,
        "Storage text is outdated",
    )


def test_published_page_stays_while_next_draft_is_worked_on(published_lenalidomide, editor, editor2, reviewer2, client):
    old_storage = published_lenalidomide.sections.get(kind="storage").body
    edit_section(published_lenalidomide, editor2, "Keep in the fridge, a new draft sentence.")

    assert state_of(published_lenalidomide) == State.DRAFT
    status, html = public_text(client)
    assert status == 200
    assert old_storage[:60] in html
    assert "new draft sentence" not in html

    workflow.submit(entry=published_lenalidomide, user=editor2)
    assert "new draft sentence" not in public_text(client)[1]
    workflow.approve(
        entry=published_lenalidomide,
        revision=working_copy.submitted_revision(published_lenalidomide),
        user=reviewer2,
        comment="OK",
    )
    html = public_text(client)[1]
    assert "new draft sentence" in html
    assert old_storage[:60] not in html
    assert Edition.objects.filter(entry=published_lenalidomide).count() == 2


def test_withdraw_removes_the_page_and_reapproval_brings_it_back(published_lenalidomide, editor, reviewer2, client):
    workflow.withdraw(entry=published_lenalidomide, user=reviewer2, comment="Safety alert under review")
    assert state_of(published_lenalidomide) == State.WITHDRAWN
    assert public_text(client)[0] == 404

    workflow.submit(entry=published_lenalidomide, user=editor)
    assert public_text(client)[0] == 404
    workflow.approve(
        entry=published_lenalidomide,
        revision=working_copy.submitted_revision(published_lenalidomide),
        user=reviewer2,
        comment="Alert resolved",
    )
    assert public_text(client)[0] == 200
    actions = list(AuditEvent.objects.filter(entry=published_lenalidomide).values_list("action", flat=True))
    assert actions[:3] == ["approved", "submitted", "withdrawn"]


# Refused transitions -------------------------------------------------------


def test_editor_cannot_approve(lenalidomide, editor, editor2):
    workflow.submit(entry=lenalidomide, user=editor)
    with pytest.raises(PermissionDenied, match="Only reviewers"):
        workflow.approve(
            entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=editor2, comment="ok"
        )
    assert state_of(lenalidomide) == State.IN_REVIEW


def test_reader_cannot_submit(lenalidomide, reader):
    with pytest.raises(PermissionDenied, match="Only editors"):
        workflow.submit(entry=lenalidomide, user=reader)


def test_author_cannot_approve_own_change(lenalidomide, make_editor_reviewer, editor):
    author = make_editor_reviewer
    edit_section(lenalidomide, author, "Changed by the author")
    workflow.submit(entry=lenalidomide, user=editor)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        workflow.approve(
            entry=lenalidomide,
            revision=working_copy.submitted_revision(lenalidomide),
            user=author,
            comment="fine by me",
        )
    assert state_of(lenalidomide) == State.IN_REVIEW
    assert not Edition.objects.exists()


def test_superuser_cannot_approve_own_change(lenalidomide, superuser):
    edit_section(lenalidomide, superuser, "Changed by the chief")
    workflow.submit(entry=lenalidomide, user=superuser)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        workflow.approve(
            entry=lenalidomide,
            revision=working_copy.submitted_revision(lenalidomide),
            user=superuser,
            comment="self-approval",
        )


def test_self_approval_setting_allows_single_person_installs(lenalidomide, superuser, settings):
    settings.FORMULARY_ALLOW_SELF_APPROVAL = True
    edit_section(lenalidomide, superuser, "Changed by the only pharmacist")
    workflow.submit(entry=lenalidomide, user=superuser)
    workflow.approve(
        entry=lenalidomide,
        revision=working_copy.submitted_revision(lenalidomide),
        user=superuser,
        comment="test install",
    )
    assert state_of(lenalidomide) == State.PUBLISHED


def test_approving_a_version_that_was_not_submitted_is_refused(lenalidomide, reviewer, client):
    with pytest.raises(workflow.TransitionError, match="submitted for review"):
        workflow.approve(
            entry=lenalidomide,
            revision=working_copy.submitted_revision(lenalidomide),
            user=reviewer,
            comment="publish directly",
        )
    assert public_text(client)[0] == 404
    assert not AuditEvent.objects.exists()


def test_publishing_a_draft_directly_is_refused(published_lenalidomide, editor2, reviewer2, client):
    edit_section(published_lenalidomide, editor2, "Unreviewed wording")
    editions = Edition.objects.count()
    with pytest.raises(workflow.TransitionError, match="Only a version submitted for review can be approved"):
        workflow.approve(
            entry=published_lenalidomide,
            revision=working_copy.submitted_revision(published_lenalidomide),
            user=reviewer2,
            comment="skip review",
        )
    assert state_of(published_lenalidomide) == State.DRAFT and Edition.objects.count() == editions
    # The public page is still shown, with the published text and without the draft's.
    status, html = public_text(client)
    assert status == 200 and "Lenalidomide" in html
    assert "Unreviewed wording" not in html


def test_edit_after_submission_makes_a_new_draft_needing_its_own_review(lenalidomide, editor, editor2, reviewer):
    workflow.submit(entry=lenalidomide, user=editor)
    edit_section(lenalidomide, editor2, "Sneaked in after submission")

    assert state_of(lenalidomide) == State.DRAFT
    with pytest.raises(workflow.TransitionError):
        workflow.approve(
            entry=lenalidomide,
            revision=working_copy.submitted_revision(lenalidomide),
            user=reviewer,
            comment="approving what I saw",
        )
    event = AuditEvent.objects.filter(entry=lenalidomide).first()
    assert event.action == "edited" and event.from_state == "in_review"
    assert "submission was withdrawn" in event.comment


def test_submitting_twice_or_without_changes_is_refused(published_lenalidomide, editor, editor2):
    with pytest.raises(workflow.TransitionError, match="Nothing to submit"):
        workflow.submit(entry=published_lenalidomide, user=editor)
    assert state_of(published_lenalidomide) == State.PUBLISHED

    edit_section(published_lenalidomide, editor2, "A change to review")
    first = workflow.submit(entry=published_lenalidomide, user=editor2)
    events = AuditEvent.objects.count()
    with pytest.raises(workflow.TransitionError, match="already in review"):
        workflow.submit(entry=published_lenalidomide, user=editor2)
    # The first submission stands, unchanged, and the refused one left no trace.
    assert state_of(published_lenalidomide) == State.IN_REVIEW
    assert working_copy.submitted_revision(published_lenalidomide) == first.revision
    assert AuditEvent.objects.count() == events


def test_reject_and_approve_need_a_comment(lenalidomide, editor, reviewer):
    workflow.submit(entry=lenalidomide, user=editor)
    with pytest.raises(workflow.TransitionError, match="comment is required"):
        workflow.reject(
            entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment="  "
        )
    with pytest.raises(workflow.TransitionError, match="comment is required"):
        workflow.approve(
            entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment=""
        )
    assert state_of(lenalidomide) == State.IN_REVIEW


def test_withdrawing_an_unpublished_entry_is_refused(lenalidomide, reviewer):
    with pytest.raises(workflow.TransitionError, match="not on the public pages"):
        workflow.withdraw(entry=lenalidomide, user=reviewer, comment="x")


def test_editor_cannot_withdraw(published_lenalidomide, editor):
    with pytest.raises(PermissionDenied):
        workflow.withdraw(entry=published_lenalidomide, user=editor, comment="x")


# Restore and records -------------------------------------------------------


def test_restore_of_an_old_version_is_a_new_draft_that_needs_review(published_lenalidomide, editor2, reviewer2):
    first = Version.objects.get_for_object(published_lenalidomide).first()
    edit_section(published_lenalidomide, editor2, "Second wording")
    workflow.submit(entry=published_lenalidomide, user=editor2)
    workflow.approve(
        entry=published_lenalidomide,
        revision=working_copy.submitted_revision(published_lenalidomide),
        user=reviewer2,
        comment="ok",
    )

    import reversion

    with reversion.create_revision():
        first.revision.revert(delete=True)
        reversion.set_user(editor2)
        reversion.set_comment("Restore the first wording")

    assert state_of(published_lenalidomide) == State.DRAFT
    live = EntryState.objects.get(entry=published_lenalidomide).live_edition
    assert any(s["body"] == "Second wording" for s in live.content["sections"])


def test_editions_and_audit_events_cannot_be_changed_or_deleted(published_lenalidomide):
    edition = Edition.objects.get()
    event = AuditEvent.objects.first()
    for record in (edition, event):
        record.comment = "tampered"
        with pytest.raises(ImmutableRecordError):
            record.save()
        with pytest.raises(ImmutableRecordError):
            record.delete()


def test_database_refuses_audit_rewrites_on_postgresql(published_lenalidomide):
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(comment="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Edition.objects.update(generic_name="Tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)


def test_interrupted_approval_leaves_nothing_half_done(lenalidomide, editor, reviewer, monkeypatch, client):
    workflow.submit(entry=lenalidomide, user=editor)

    def explode(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(workflow, "_record", explode)
    with pytest.raises(RuntimeError):
        workflow.approve(
            entry=lenalidomide, revision=working_copy.submitted_revision(lenalidomide), user=reviewer, comment="ok"
        )
    assert state_of(lenalidomide) == State.IN_REVIEW
    assert not Edition.objects.exists()
    assert public_text(client)[0] == 404


def test_import_of_a_published_entry_makes_a_draft(published_lenalidomide):
    services.entry_import_text(generic_name="Lenalidomide", text="Lenalidomide is re-imported.\n")
    assert state_of(published_lenalidomide) == State.DRAFT
    assert EntryState.objects.get(entry=published_lenalidomide).live_edition is not None


def test_two_live_entries_cannot_share_an_address(published_lenalidomide, editor, reviewer2):
    from monographs.services import entry_import_text, entry_update

    entry_update(entry=published_lenalidomide, slug="lenalidomide-old", user=editor, reason="rename")
    other = entry_import_text(generic_name="Lenalidomide B", text="Lenalidomide B is a test.\n").entry
    entry_update(entry=other, slug="lenalidomide", user=editor, reason="take the old address")
    workflow.submit(entry=other, user=editor)
    with pytest.raises(workflow.TransitionError, match="already uses the address /entries/lenalidomide/"):
        workflow.approve(entry=other, revision=working_copy.submitted_revision(other), user=reviewer2, comment="ok")


# The reviewer decides on the version they saw -----------------------------


def test_approving_a_version_that_was_replaced_by_a_resubmission_publishes_nothing(
    published_lenalidomide, editor2, reviewer2, client
):
    edit_section(published_lenalidomide, editor2, "Take the usual dose")
    seen = workflow.submit(entry=published_lenalidomide, user=editor2).revision
    edit_section(published_lenalidomide, editor2, "Take 10x the dose")
    workflow.submit(entry=published_lenalidomide, user=editor2)

    with pytest.raises(workflow.StaleReviewError) as refused:
        workflow.approve(entry=published_lenalidomide, revision=seen, user=reviewer2, comment="Looks right")

    assert refused.value.current_revision == working_copy.submitted_revision(published_lenalidomide)
    assert refused.value.current_revision != seen
    assert "Take 10x the dose" not in public_text(client)[1]
    assert state_of(published_lenalidomide) == State.IN_REVIEW
    assert published_lenalidomide.editions.count() == 1


def test_rejecting_a_replaced_version_is_refused_too(lenalidomide, editor, editor2, reviewer):
    seen = workflow.submit(entry=lenalidomide, user=editor).revision
    edit_section(lenalidomide, editor2, "Rewritten")
    workflow.submit(entry=lenalidomide, user=editor2)

    with pytest.raises(workflow.StaleReviewError):
        workflow.reject(entry=lenalidomide, revision=seen.pk, user=reviewer, comment="Outdated")
    assert state_of(lenalidomide) == State.IN_REVIEW


# Content checks before submit ----------------------------------------------


def blocking(settings, *codes):
    settings.FORMULARY_CONTENT_CHECKS = {**settings.FORMULARY_CONTENT_CHECKS, **dict.fromkeys(codes, "blocking")}


def test_a_blocking_content_check_refuses_submit_with_its_findings(lenalidomide, editor, settings):
    blocking(settings, "empty_list")
    with pytest.raises(workflow.ContentCheckError) as refused:
        workflow.submit(entry=lenalidomide, user=editor, comment="Please check")

    assert "the content checks found 1 problem that must be fixed first" in str(refused.value)
    (finding,) = refused.value.findings
    assert finding.code == "empty_list" and finding.blocking
    assert "“Beyond its role in myeloma, this substance is indicated for:” introduces a list" in finding.message
    assert state_of(lenalidomide) == State.DRAFT
    assert not AuditEvent.objects.filter(entry=lenalidomide, action=AuditEvent.Action.SUBMITTED).exists()


def test_a_warning_does_not_refuse_submit_and_fixing_a_blocking_finding_allows_it(lenalidomide, editor, settings):
    assert [f.level for f in workflow.submission_findings(lenalidomide)] == ["warning"]
    blocking(settings, "empty_list")
    assert workflow.can_submit(editor, lenalidomide)  # the screen lists the findings; submit says no
    edit_section(lenalidomide, editor, "Indicated for:\n\n- myelodysplastic syndromes\n- mantle cell lymphoma", "uses")

    workflow.submit(entry=lenalidomide, user=editor)
    assert state_of(lenalidomide) == State.IN_REVIEW


def test_an_empty_section_blocks_submit_by_default(lenalidomide, editor):
    edit_section(lenalidomide, editor, "   ")
    with pytest.raises(workflow.ContentCheckError) as refused:
        workflow.submit(entry=lenalidomide, user=editor)
    assert [(f.code, f.where) for f in refused.value.findings] == [("empty_section", "Storage and duration")]
    assert state_of(lenalidomide) == State.DRAFT


def test_a_content_check_refusal_is_translated(lenalidomide, editor, settings):
    from django.utils import translation

    blocking(settings, "empty_list")
    with translation.override("zh-hant"), pytest.raises(workflow.ContentCheckError) as refused:
        workflow.submit(entry=lenalidomide, user=editor)
    assert str(refused.value) == "未提交：內容檢查發現 1 個必須先修正的問題。"
    assert refused.value.findings[0].message.startswith("「Beyond its role in myeloma")
