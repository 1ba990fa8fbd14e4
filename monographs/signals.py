"""Signals sent by workflow transitions, after the transition's transaction commits.

Each receives `entry`, `user`, `comment` and `event` (the AuditEvent written).
"""

from django.dispatch import Signal

entry_submitted = Signal()
entry_approved = Signal()
# A scheduled edition went live (sent by publish_due; `user` is None).
entry_published = Signal()
entry_rejected = Signal()
entry_withdrawn = Signal()
