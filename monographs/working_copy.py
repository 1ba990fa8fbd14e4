"""Staff reads of the working copy: what awaits review, versions and history.

Public pages never call these (they read published editions through
`selectors`); the admin, the review screens and the workflow do.
"""

from .models import EntryState


def submitted_revision(entry):
    """The revision of `entry` awaiting review, or None when none is."""
    state = EntryState.objects.select_related("submitted_revision").filter(entry=entry).first()
    return state.submitted_revision if state else None
