"""The entry's workflow as one table: state × action → state, with its guard and what happens
to an edition waiting to go live.

`workflow` moves an entry only through `next_state` (a pair missing from the table is
refused), the screens ask `offered` before showing a button, and the state diagram in
`docs/workflow.md` is `diagram()` (tests/test_transitions.py fails when they differ;
`manage.py workflow_diagram --write` rewrites it). No database here: plain data.

The state is where the working copy stands. Two things live beside it on the entry's
state row and are not states: the *live edition* (what the public sees, if anything)
and the *waiting edition* (approved, going live at its time). An entry can be a draft
with an edition live and another waiting; the table's last column says what each
action does to the waiting one.
"""

from dataclasses import dataclass

from .models import State

SAME = "same"  # the action leaves the state as it is


class Action:
    """What can happen to an entry (a person's decision, a save, or the clock)."""

    EDIT = "edit"  # a save or a restore: a new revision of the working copy
    SUBMIT = "submit"
    APPROVE_NOW = "approve now"
    APPROVE_LATER = "approve for later"
    REJECT = "reject"
    CANCEL_SCHEDULE = "cancel schedule"
    WITHDRAW_NOW = "withdraw now"
    WITHDRAW_LATER = "withdraw later"
    GO_LIVE = "go live (clock)"  # publish_due: the waiting edition's time has come
    WITHDRAWAL_DUE = "withdrawal due (clock)"  # publish_due: a planned withdrawal's time has come


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str  # a State value, or SAME
    guard: str  # who may, and what must hold (checked under the state row's lock)
    waiting: str  # what happens to an edition waiting to go live


KEPT = "kept: still goes live at its time"
# A planned withdrawal is kept by every action but "cancel schedule", "withdraw now" and its own time.
DECISION = "reviewer; the page's view of the entry is current (else 409, nothing done)"
APPROVAL = (
    "reviewer who made no revision since the last edition that went live (four-eyes); "
    "the page's view is current; outdated Chinese ticked; a waiting edition's replacement confirmed"
)
REPLACED = "replaced: cancelled (audited, never live), the reviewer having confirmed it"
DRAFTISH = (State.DRAFT, State.IN_REVIEW)

ROWS = [
    # Editing: any save makes the working copy a draft that needs its own review.
    *(
        Transition(source, Action.EDIT, State.DRAFT, "editor", KEPT)
        for source in (State.DRAFT, State.IN_REVIEW, State.SCHEDULED, State.PUBLISHED, State.WITHDRAWN)
    ),
    *(
        Transition(source, Action.SUBMIT, State.IN_REVIEW, "editor; no blocking content finding", KEPT)
        for source in (State.DRAFT, State.WITHDRAWN)
    ),
    Transition(State.IN_REVIEW, Action.APPROVE_NOW, State.PUBLISHED, APPROVAL, REPLACED),
    Transition(State.IN_REVIEW, Action.APPROVE_LATER, State.SCHEDULED, APPROVAL, REPLACED + "; the new one waits"),
    Transition(State.IN_REVIEW, Action.REJECT, State.DRAFT, DECISION, KEPT),
    # Cancelling: the approved working copy is a draft again (it must be submitted and
    # reviewed again, by someone who did not write it); a draft keeps its own state.
    Transition(
        State.SCHEDULED,
        Action.CANCEL_SCHEDULE,
        State.DRAFT,
        DECISION,
        "cancelled (audited, never live); a planned withdrawal is cancelled too",
    ),
    *(
        Transition(
            source,
            Action.CANCEL_SCHEDULE,
            SAME,
            DECISION + "; something is scheduled",
            "cancelled (audited, never live); a planned withdrawal is cancelled too",
        )
        for source in (*DRAFTISH, State.PUBLISHED)
    ),
    # Withdrawing now takes the live edition off and cancels a waiting one: the reviewer
    # wants the entry off the pages, not back at the scheduled time.
    *(
        Transition(
            source,
            Action.WITHDRAW_NOW,
            State.WITHDRAWN,
            DECISION + "; an edition is live or waiting",
            "cancelled (audited, never live)",
        )
        for source in (State.PUBLISHED, State.SCHEDULED)
    ),
    *(
        Transition(
            source,
            Action.WITHDRAW_NOW,
            SAME,
            DECISION + "; an edition is live or waiting",
            "cancelled (audited, never live)",
        )
        for source in DRAFTISH
    ),
    *(
        Transition(source, Action.WITHDRAW_LATER, SAME, DECISION + "; an edition is live", KEPT)
        for source in (State.PUBLISHED, State.SCHEDULED, *DRAFTISH)
    ),
    Transition(State.SCHEDULED, Action.GO_LIVE, State.PUBLISHED, "its time has come", "goes live"),
    *(Transition(source, Action.GO_LIVE, SAME, "its time has come", "goes live") for source in DRAFTISH),
    # A planned withdrawal, when its time comes, is a withdrawal now: a waiting edition is
    # cancelled too, or it would bring the recalled entry back at its own time.
    *(
        Transition(
            source, Action.WITHDRAWAL_DUE, State.WITHDRAWN, "its time has come", "cancelled (audited, never live)"
        )
        for source in (State.PUBLISHED, State.SCHEDULED)
    ),
    *(
        Transition(source, Action.WITHDRAWAL_DUE, SAME, "its time has come", "cancelled (audited, never live)")
        for source in DRAFTISH
    ),
]

TABLE = {(row.source, row.action): row for row in ROWS}  # one row per pair: tests/test_transitions.py


class NotInTable(Exception):
    """The action is not possible from this state (the table has no row for the pair)."""


def transition(source, action):
    """The row for `action` from state `source`, or NotInTable."""
    try:
        return TABLE[(source, action)]
    except KeyError:
        raise NotInTable(f"{action!r} is not possible from {source!r}") from None


def next_state(source, action):
    """The state after `action` from `source` (NotInTable when the table has no such row)."""
    target = transition(source, action).target
    return source if target == SAME else target


def offered(source, action):
    """Whether the table allows `action` from `source` at all (screens ask before offering it)."""
    return (source, action) in TABLE


def diagram():
    """The table as Markdown: the text between the markers in docs/workflow.md."""
    lines = [
        "| from | action | to | guard | an edition waiting to go live |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        target = "(unchanged)" if row.target == SAME else f"**{row.target}**"
        lines.append(f"| **{row.source}** | {row.action} | {target} | {row.guard} | {row.waiting} |")
    return "\n".join(lines) + "\n"


DOC_BEGIN = "<!-- transitions table: generated by `manage.py workflow_diagram --write`; do not edit -->"
DOC_END = "<!-- end of transitions table -->"
