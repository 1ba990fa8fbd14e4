"""Who may see and do what: every role against every admin page and workflow action.

Each cell states the expected result: "ok" (the page or action works),
"login" (redirected to the login page) or 403/404. Public pages, search and
the API must never show a draft to anyone.
"""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from reversion.models import Version

from monographs import services, workflow, working_copy
from monographs.models import AuditEvent, EntryState, State

from .admin_forms import change_form_data
from .factories import make_user

ROLES = ["anonymous", "reader", "editor", "reviewer", "superuser"]


@pytest.fixture
def people(db):
    return {
        "reader": make_user("m-reader", "Readers"),
        "editor": make_user("m-editor", "Editors"),
        "reviewer": make_user("m-reviewer", "Reviewers"),
        "superuser": make_user("m-super", superuser=True),
        # Authors and submitters of the fixtures, so nobody in the matrix is an author.
        "author": make_user("m-author", "Editors"),
        "senior": make_user("m-senior", "Reviewers"),
    }


@pytest.fixture
def entry(people):
    entry = services.entry_import_text(
        generic_name="Matrixamide",
        text="Matrixamide is a test drug.\n\nStore it in a dry place.\n",
        user=people["author"],
    ).entry
    services.product_upsert(
        entry=entry,
        name="Matrix",
        certificate_holder="Test Ltd",
        kind="brand",
        legal_classification="p1s1s3",
        sale_requirement="prescription",
        formulary_status="general",
        user=people["author"],
        strengths=[{"amount": Decimal("5"), "unit": "mg", "dosage_form": "capsule", "route": "oral"}],
    )
    return entry


def in_review(entry, people):
    workflow.submit(entry=entry, user=people["author"])


def published(entry, people):
    in_review(entry, people)
    workflow.approve(entry=entry, revision=working_copy.submitted_revision(entry), user=people["senior"], comment="ok")


def shown(entry):
    """The hidden field of the review page: the revision it showed."""
    revision = working_copy.submitted_revision(entry)
    seen = {"seen": workflow.state_token(entry)}
    return {"revision": revision.pk, **seen} if revision else seen


def url(name, entry, *args):
    return reverse(f"admin:monographs_entry_{name}", args=[entry.pk, *args])


def _admin_form(entry, people, path):
    staff = Client()
    staff.force_login(people["superuser"])
    data = change_form_data(staff.get(path))
    data["change_reason"] = "matrix"
    return data


# Each action: (setup, request builder) -> request builder returns (method, path, data).
ACTIONS = {
    "admin index": (None, lambda e, p: ("get", reverse("admin:index"), None)),
    "entry list": (None, lambda e, p: ("get", reverse("admin:monographs_entry_changelist"), None)),
    "entry page": (None, lambda e, p: ("get", url("change", e), None)),
    "entry add page": (None, lambda e, p: ("get", reverse("admin:monographs_entry_add"), None)),
    "entry save": (None, lambda e, p: ("post", url("change", e), _admin_form(e, p, url("change", e)))),
    "history": (None, lambda e, p: ("get", url("history", e), None)),
    "compare": (
        None,
        lambda e, p: (
            "get",
            url("compare", e),
            dict(
                zip(
                    ["new", "old"],
                    Version.objects.get_for_object(e).values_list("revision_id", flat=True)[:2],
                    strict=True,
                )
            ),
        ),
    ),
    "restore": (
        None,
        lambda e, p: (
            "post",
            url("revision", e, Version.objects.get_for_object(e).last().pk),
            _admin_form(e, p, url("revision", e, Version.objects.get_for_object(e).last().pk)),
        ),
    ),
    "review queue": (in_review, lambda e, p: ("get", reverse("admin:monographs_entry_review_queue"), None)),
    "review page": (in_review, lambda e, p: ("get", url("review", e), None)),
    "submit": (None, lambda e, p: ("post", url("submit", e), {"comment": "please"})),
    "approve": (
        in_review,
        lambda e, p: ("post", url("review", e), {"decision": "approve", "comment": "ok", **shown(e)}),
    ),
    "reject": (in_review, lambda e, p: ("post", url("review", e), {"decision": "reject", "comment": "no", **shown(e)})),
    "withdraw": (published, lambda e, p: ("post", url("withdraw", e), {"comment": "recall", **shown(e)})),
    "audit log": (published, lambda e, p: ("get", reverse("admin:monographs_auditevent_changelist"), None)),
    "audit change": (
        published,
        lambda e, p: (
            "post",
            reverse("admin:monographs_auditevent_change", args=[e.audit_events.first().pk]),
            {"comment": "x"},
        ),
    ),
    "audit delete": (
        published,
        lambda e, p: (
            "post",
            reverse("admin:monographs_auditevent_delete", args=[e.audit_events.first().pk]),
            {"post": "yes"},
        ),
    ),
    "public page, published": (published, lambda e, p: ("get", f"/en/entries/{e.slug}/", None)),
    "public page, draft": (None, lambda e, p: ("get", f"/en/entries/{e.slug}/", None)),
    "public page, in review": (in_review, lambda e, p: ("get", f"/en/entries/{e.slug}/", None)),
}

# Expected result per role, in ROLES order.
MATRIX = {
    "admin index": ["login", "ok", "ok", "ok", "ok"],
    "entry list": ["login", "ok", "ok", "ok", "ok"],
    "entry page": ["login", "ok", "ok", "ok", "ok"],
    "entry add page": ["login", 403, "ok", 403, "ok"],
    "entry save": ["login", 403, "ok", 403, "ok"],
    "history": ["login", "ok", "ok", "ok", "ok"],
    "compare": ["login", "ok", "ok", "ok", "ok"],
    "restore": ["login", 403, "ok", 403, "ok"],
    "review queue": ["login", "ok", "ok", "ok", "ok"],
    "review page": ["login", "ok", "ok", "ok", "ok"],
    "submit": ["login", 403, "ok", 403, "ok"],
    "approve": ["login", 403, 403, "ok", "ok"],
    "reject": ["login", 403, 403, "ok", "ok"],
    "withdraw": ["login", 403, 403, "ok", "ok"],
    "audit log": ["login", "ok", "ok", "ok", "ok"],
    "audit change": ["login", 403, 403, 403, 403],
    "audit delete": ["login", 403, 403, 403, 403],
    "public page, published": ["ok", "ok", "ok", "ok", "ok"],
    "public page, draft": [404, 404, 404, 404, 404],
    "public page, in review": [404, 404, 404, 404, 404],
}

CASES = [(action, role, MATRIX[action][i]) for action in MATRIX for i, role in enumerate(ROLES)]


def test_matrix_covers_every_action_and_role():
    assert set(MATRIX) == set(ACTIONS)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize(("action", "role", "expected"), CASES, ids=[f"{a}-{r}" for a, r, _ in CASES])
def test_permission_matrix(action, role, expected, entry, people):
    setup, build = ACTIONS[action]
    if setup:
        setup(entry, people)
    method, path, data = build(entry, people)
    before = world(entry)
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])

    response = getattr(client, method)(path, data or {})

    if expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"], response.status_code
    elif expected == "ok" and method == "get":
        assert response.status_code == 200, response.status_code
    elif expected == "ok":
        # Done: the admin redirects after a save or decision (a form shown again with errors is a
        # 200) and the action left its trace.
        assert response.status_code == 302 and "/login/" not in response["Location"], response.status_code
        assert world(entry) != before, "the action was accepted but changed nothing"
    else:
        assert response.status_code == expected
    if expected != "ok" and method == "post":
        # A refused action changes nothing: no state, no new version of the text, no audit event.
        assert world(entry) == before


def world(entry):
    """What an action can change: the entry's state, its saved versions (a save or restore adds
    one) and the audit trail (each field, so an edited or deleted event shows)."""
    return (
        EntryState.objects.get(entry=entry).state,
        list(Version.objects.get_for_object(entry).order_by("pk").values_list("pk", flat=True)),
        list(AuditEvent.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("role", ["reader", "editor"])
def test_refused_workflow_actions_say_why(role, entry, people):
    in_review(entry, people)
    client = Client()
    client.force_login(people[role])
    response = client.post(url("review", entry), {"decision": "approve", "comment": "ok", **shown(entry)})
    assert response.status_code == 403
    assert "Only reviewers can approve" in response.content.decode()
    assert EntryState.objects.get(entry=entry).state == State.IN_REVIEW
