"""The admin's home page for the people who act on entries: the review queue for reviewers,
entries overdue for periodic review for editors and reviewers. Reads through `working_copy`,
"may I?" from `workflow`."""

from django.utils import timezone

from . import workflow, working_copy

OVERDUE_SHOWN = 20


def home_context(user):
    context = {}
    if workflow.can_review_any(user):
        queue = list(working_copy.review_queue())
        context["review_queue"] = queue
    if workflow.can_review_any(user) or workflow.can_edit(user, None):
        today = timezone.localdate()
        context["overdue_count"] = working_copy.overdue_for_review(today).count()
        context["overdue"] = list(working_copy.overdue_for_review(today, limit=OVERDUE_SHOWN))
        context["today"] = today
    return context
