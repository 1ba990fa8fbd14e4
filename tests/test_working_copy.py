"""monographs.working_copy: staff reads of drafts, reviews and history."""

import datetime

from django.utils import timezone

from monographs import workflow, working_copy
from monographs.models import EntryState

from .factories import edit, make_entry


def test_review_queue_is_oldest_submission_first(editor):
    first = make_entry("Zolpidem", user=editor)
    second = make_entry("Amlodipine", user=editor)
    make_entry("Draftonly", user=editor)
    workflow.submit(entry=second, user=editor)
    workflow.submit(entry=first, user=editor)
    EntryState.objects.filter(entry=first).update(submitted_at=timezone.now() - datetime.timedelta(days=2))
    assert [state.entry.generic_name for state in working_copy.review_queue()] == ["Zolpidem", "Amlodipine"]


def test_submitted_and_latest_revision(editor, editor2):
    entry = make_entry("Metformin", user=editor)
    assert working_copy.submitted_revision(entry) is None
    submitted = workflow.submit(entry=entry, user=editor).revision
    assert working_copy.submitted_revision(entry) == submitted == working_copy.latest_revision(entry)
    edit(entry, user=editor2, first_section_body="Later draft")
    assert working_copy.latest_revision(entry) != submitted
    assert working_copy.submitted_revision(entry) is None  # the edit ended the review


def test_authors_since_publication_are_everyone_who_edited_what_would_be_published(
    published_lenalidomide, editor, editor2, reviewer
):
    edit(published_lenalidomide, user=editor2, first_section_body="Second edition")
    latest = working_copy.latest_revision(published_lenalidomide)
    assert working_copy.authors_since_publication(published_lenalidomide, latest) == {editor2.pk}


def test_standing_rejection_lasts_until_the_entry_is_submitted_again(lenalidomide, editor, reviewer):
    submitted = workflow.submit(entry=lenalidomide, user=editor).revision
    workflow.reject(entry=lenalidomide, revision=submitted, user=reviewer, comment="Use the full class name")
    assert working_copy.standing_rejection(lenalidomide.pk).comment == "Use the full class name"
    # Fixing the draft keeps the reasons in view; the next submission ends them.
    edit(lenalidomide, user=editor, drug_class="Immunomodulatory imide drug (IMiD)")
    assert working_copy.standing_rejection(lenalidomide.pk).comment == "Use the full class name"
    workflow.submit(entry=lenalidomide, user=editor)
    assert working_copy.standing_rejection(lenalidomide.pk) is None
