"""The workflow's one table (monographs/transitions.py): the docs show it exactly, and the
workflow moves entries only along its rows."""

from pathlib import Path

import pytest
from django.conf import settings

from monographs import transitions
from monographs.management.commands.workflow_diagram import document_with_table
from monographs.models import State


def test_docs_workflow_shows_exactly_the_table_the_code_reads():
    doc = (Path(settings.BASE_DIR) / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert document_with_table(doc) == doc, "run `manage.py workflow_diagram --write`"


def test_the_table_has_one_row_per_state_and_action():
    assert len(transitions.TABLE) == len(transitions.ROWS)


def test_every_state_can_be_left_and_every_action_is_somewhere():
    sources = {row.source for row in transitions.TABLE.values()}
    assert sources == set(State.values)
    actions = {value for name, value in vars(transitions.Action).items() if not name.startswith("_")}
    assert actions == {row.action for row in transitions.TABLE.values()}


@pytest.mark.parametrize("state", State.values)
def test_what_happens_to_a_waiting_edition_is_said_for_every_row(state):
    for action in {row.action for row in transitions.TABLE.values()}:
        if transitions.offered(state, action):
            assert transitions.transition(state, action).waiting


def test_a_pair_missing_from_the_table_is_refused():
    with pytest.raises(transitions.NotInTable):
        transitions.next_state(State.PUBLISHED, transitions.Action.APPROVE_NOW)
    assert transitions.next_state(State.SCHEDULED, transitions.Action.CANCEL_SCHEDULE) == State.DRAFT
    assert transitions.next_state(State.DRAFT, transitions.Action.GO_LIVE) == State.DRAFT
