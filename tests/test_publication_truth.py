"""What the public sees is the approved, live edition: regressions for the edges where the
workflow, the screens and the caches met (docs/workflow.md, "What is guaranteed").

The property-based test over every surface is tests/test_publication_properties.py.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from monographs import publication, selectors, workflow, working_copy
from monographs.models import AuditEvent, EntryState, State

from .factories import admin_entry_url, edit, make_user


def later(days=3):
    return timezone.now() + datetime.timedelta(days=days)


def submit(entry, user, text):
    edit(entry, user=user, first_section_body=text)
    return workflow.submit(entry=entry, user=user).revision


def state_of(entry):
    return EntryState.objects.get(entry=entry)


def public_text(client, entry):
    response = client.get(f"/en/entries/{entry.slug}/")
    return response.content.decode() if response.status_code == 200 else None


@pytest.fixture
def editor_reviewer(db):
    return make_user("both", "Editors", "Reviewers")


# --- 1. Four-eyes over every revision the public has not yet seen. ---


def test_a_cancelled_schedule_cannot_be_used_to_approve_ones_own_change(
    published_lenalidomide, editor_reviewer, reviewer2, editor2
):
    entry = published_lenalidomide
    own = submit(entry, editor_reviewer, "Own change, never seen by the public.")
    workflow.approve(entry=entry, revision=own, user=reviewer2, comment="Later", effective_at=later())
    workflow.unschedule(entry=entry, user=reviewer2, comment="Postponed")
    trivial = submit(entry, editor2, "Own change, never seen by the public. Typo fixed.")

    allowed, reason = workflow.may_approve(editor_reviewer, entry, trivial)
    assert not allowed and "four-eyes" in reason
    with pytest.raises(PermissionDenied):
        workflow.approve(entry=entry, revision=trivial, user=editor_reviewer, comment="Mine, live")
    assert "Own change" not in str(selectors.live_edition_for_key(entry_id=entry.pk, slug="").content)


# --- 2. A decision is bound to the whole state the page showed. ---


def test_a_stale_review_page_cannot_undo_a_withdrawal(client, published_lenalidomide, editor2, reviewer, reviewer2):
    entry = published_lenalidomide
    submit(entry, editor2, "Pending version.")
    client.force_login(reviewer2)
    form = client.get(admin_entry_url(entry, "review")).context["form"]

    workflow.withdraw(entry=entry, user=reviewer, comment="RECALL")
    response = client.post(
        admin_entry_url(entry, "review"),
        {
            "decision": "approve",
            "comment": "Looks fine",
            "revision": form["revision"].value(),
            "seen": form["seen"].value(),
        },
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "changed after your page was opened" in page and "Withdrawn from public pages" in page
    assert f'href="{admin_entry_url(entry, "review")}"' in page  # open it again
    assert public_text(client, entry) is None
    assert not AuditEvent.objects.filter(entry=entry, action="approved", actor=reviewer2).exists()


def test_every_decision_refuses_a_page_older_than_the_entry(published_lenalidomide, editor2, reviewer, reviewer2):
    entry = published_lenalidomide
    seen = workflow.state_token(entry)
    workflow.withdraw(entry=entry, user=reviewer, comment="Recall", effective_at=later())
    with pytest.raises(workflow.StaleStateError) as refused:
        workflow.withdraw(entry=entry, user=reviewer2, comment="Now", seen=seen)
    assert [change.what for change in refused.value.changes] == ["Withdrawal scheduled"]
    with pytest.raises(workflow.StaleStateError):
        workflow.unschedule(entry=entry, user=reviewer2, comment="No", seen=seen)
    revision = submit(entry, editor2, "New")
    with pytest.raises(workflow.StaleStateError):
        workflow.reject(entry=entry, user=reviewer2, revision=revision, comment="No", seen=seen)
    assert state_of(entry).withdraw_at is not None  # nothing was done


# --- 3 and 4. The review page names the waiting edition; the diff is against it. ---


def test_the_review_page_names_the_waiting_edition_and_approval_over_it_needs_a_tick(
    client, published_lenalidomide, editor2, reviewer2
):
    entry = published_lenalidomide
    first = submit(entry, editor2, "Waiting wording.")
    workflow.approve(entry=entry, revision=first, user=reviewer2, comment="Monday", effective_at=later())
    submit(entry, editor2, "Waiting wording. And a newer sentence.")
    client.force_login(reviewer2)

    opened = client.get(admin_entry_url(entry, "review"))
    page = opened.content.decode()
    assert "Edition 2 is waiting to go live" in page and "replaces it" in page
    # Compared with the waiting edition: only the new sentence is new to the reviewer.
    assert "Compared with edition 2" in page
    assert "<ins>Waiting</ins>" not in page and "newer" in page
    assert "?against=live" in page
    against_live = client.get(admin_entry_url(entry, "review") + "?against=live").content.decode()
    assert "Compared with edition 1" in against_live

    form = opened.context["form"]
    data = {
        "decision": "approve",
        "comment": "Now",
        "revision": form["revision"].value(),
        "seen": form["seen"].value(),
    }
    refused = client.post(admin_entry_url(entry, "review"), data)
    assert refused.status_code == 200 and "Tick “Replace edition 2, waiting to go live”" in refused.content.decode()
    assert state_of(entry).scheduled_edition.number == 2

    done = client.post(admin_entry_url(entry, "review"), {**data, "replace_waiting": "on"}, follow=True)
    message = done.content.decode()
    assert "Edition 2, which was waiting to go live on" in message and "will not go live" in message
    assert state_of(entry).scheduled_edition is None and state_of(entry).live_edition.number == 3


# --- 5. Cancelling a schedule leaves a draft that can be submitted again. ---


def test_cancelling_a_schedule_makes_the_approved_copy_a_draft_that_can_be_resubmitted(
    published_lenalidomide, editor2, reviewer2
):
    entry = published_lenalidomide
    revision = submit(entry, editor2, "Postponed wording.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=later())
    workflow.unschedule(entry=entry, user=reviewer2, comment="Committee postponed")
    assert state_of(entry).state == State.DRAFT and state_of(entry).live_edition.number == 1
    event = workflow.submit(entry=entry, user=editor2)
    assert event.to_state == State.IN_REVIEW and event.revision == revision


# --- 6 (real Redis) is in tests/test_concurrency_and_faults.py; 7. Installs and restores. ---


def test_two_databases_never_share_a_stamp(settings, published_lenalidomide):
    from django.db import connection

    stamp = publication.publication_stamp()
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        (oid,) = cursor.fetchone()
    assert stamp.database.startswith(f"{oid}.") and str(stamp).startswith(f"{oid}.")


def test_the_install_prefix_defaults_to_the_database_and_can_be_set():
    import subprocess
    import sys

    def prefix(**env):
        import os

        code = "from django.conf import settings; print(settings.CACHES['public'].get('KEY_PREFIX', ''))"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "formulary.settings",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            **env,
        }
        environment.pop("FORMULARY_CACHE_PREFIX", None) if "FORMULARY_CACHE_PREFIX" not in env else None
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    live = prefix(DATABASE_URL="postgres://postgres@127.0.0.1:5432/formulary")
    restored = prefix(DATABASE_URL="postgres://postgres@127.0.0.1:5432/formulary_restored")
    assert live.startswith("formulary-") and restored.startswith("formulary-") and live != restored
    assert prefix(DATABASE_URL="postgres://postgres@127.0.0.1:5432/formulary", FORMULARY_CACHE_PREFIX="ward") == "ward"


# --- 10. A scheduled go-live is an update for sync clients, feeds and FHIR. ---


def test_a_scheduled_go_live_reaches_clients_that_synced_after_the_approval(
    client, published_lenalidomide, editor2, reviewer2
):
    entry = published_lenalidomide
    monday = timezone.now()
    revision = submit(entry, editor2, "Goes live on Wednesday.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Wednesday", effective_at=later(2))
    tuesday = monday + datetime.timedelta(days=1)
    wednesday = later(2) + datetime.timedelta(seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: wednesday)
        workflow.publish_due(now=wednesday)

    synced = tuesday.isoformat().replace("+00:00", "Z")
    rows = client.get("/api/v1/entries/", {"updated_since": synced}).json()
    results = rows["results"] if isinstance(rows, dict) else rows
    assert [row["slug"] for row in results] == ["lenalidomide"]

    def moment(text):
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert abs(moment(results[0]["updated_at"]) - wednesday) < datetime.timedelta(seconds=1)
    medication = client.get("/fhir/MedicationKnowledge", {"_count": 1}).json()
    resource = medication["entry"][0]["resource"]
    assert abs(moment(resource["meta"]["lastUpdated"]) - wednesday) < datetime.timedelta(seconds=1)


def test_the_transitions_table_refuses_what_it_does_not_list(published_lenalidomide, reviewer):
    state = state_of(published_lenalidomide)
    assert working_copy.state_token(published_lenalidomide.pk) == workflow.state_token(published_lenalidomide)
    with pytest.raises(workflow.TransitionError, match="Nothing to submit"):
        workflow.submit(entry=published_lenalidomide, user=make_user("ed3", "Editors"))
    assert state.state == State.PUBLISHED


def test_the_refusals_and_notices_of_a_stale_page_or_a_waiting_edition_are_in_chinese(
    client, published_lenalidomide, editor2, reviewer2
):
    from django.utils import translation

    entry = published_lenalidomide
    revision = submit(entry, editor2, "Waiting.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=later())
    waiting = state_of(entry).scheduled_edition
    with translation.override("zh-hant"):
        assert "未執行任何操作" in str(workflow.StaleStateError([]))
        refusal = str(workflow.WaitingEditionError(waiting))
        assert "正等待於" in refusal and "「取代等待上線的第 2 版」" in refusal
    submit(entry, editor2, "Waiting. Newer.")
    client.force_login(reviewer2)
    page = client.get(admin_entry_url(entry, "review"), HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
    assert "第 2 版正等待上線" in page and "改為與現行版本比較" in page


# --- Found by the attack pass on this work. ---


def test_a_planned_withdrawal_survives_a_new_edition_going_live(published_lenalidomide, editor2, reviewer, reviewer2):
    entry = published_lenalidomide
    withdraw_at = later(1)
    workflow.withdraw(entry=entry, user=reviewer, comment="Discontinued", effective_at=withdraw_at)
    revision = submit(entry, editor2, "A last edition before it goes.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Now")
    assert state_of(entry).withdraw_at == withdraw_at  # approving now did not cancel the recall
    revision = submit(entry, editor2, "Goes live first, then the recall.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Soon", effective_at=later(0.5))
    workflow.publish_due(now=later(0.5) + datetime.timedelta(seconds=1))
    assert state_of(entry).live_edition is not None and state_of(entry).withdraw_at == withdraw_at
    workflow.publish_due(now=withdraw_at + datetime.timedelta(seconds=1))
    assert state_of(entry).live_edition is None


def test_a_booklet_holds_exactly_what_was_laid_out_even_if_a_publication_lands_during_the_build(
    published_lenalidomide, editor, reviewer, monkeypatch
):
    """The attack: an entry published between the build's first read and its layout was in the
    PDF but not in the file's list of entries, so its withdrawal did not stop the file."""
    from monographs import booklet_store

    from .factories import make_entry, publish

    late = make_entry("Latecomer", user=editor, sections=[("overview", "", "Published during the build.")])
    reading = selectors.live_editions_in_chunks

    def publication_lands_first(*args, **kwargs):
        publish(late, editor=editor, reviewer=reviewer)
        return reading(*args, **kwargs)

    monkeypatch.setattr(selectors, "live_editions_in_chunks", publication_lands_first)
    built = booklet_store.build(booklet_store.ALL, "en", worker_count=1)
    monkeypatch.setattr(selectors, "live_editions_in_chunks", reading)
    assert late.pk in {entry_id for entry_id, _edition in built.entries}

    workflow.withdraw(entry=late, user=reviewer, comment="Recall")
    assert booklet_store.choose(booklet_store.ALL, "en").built is None  # being prepared, not the recalled text
    rebuilt = booklet_store.build(booklet_store.ALL, "en", worker_count=1)
    assert rebuilt.pk != built.pk and late.pk not in {entry_id for entry_id, _edition in rebuilt.entries}


def test_decision_comments_and_times_are_bounded_and_clean(client, published_lenalidomide, editor2, reviewer2):
    entry = published_lenalidomide
    revision = submit(entry, editor2, "New.")
    client.force_login(reviewer2)
    form = client.get(admin_entry_url(entry, "review")).context["form"]
    data = {"decision": "reject", "revision": form["revision"].value(), "seen": form["seen"].value()}
    too_long = client.post(admin_entry_url(entry, "review"), {**data, "comment": "x" * 200_000})
    assert too_long.status_code == 200 and "at most 4000 characters" in too_long.content.decode()
    nul = client.post(
        admin_entry_url(entry, "review"),
        {**data, "decision": "approve", "comment": "ok", "go_live_at": "2027-01-01T10:00\x00"},
    )
    assert nul.status_code == 200 and "Enter a valid date/time" in nul.content.decode()
    assert state_of(entry).state == State.IN_REVIEW and state_of(entry).submitted_revision == revision


def test_a_colleague_restoring_your_never_public_text_does_not_let_you_approve_it(
    client, published_lenalidomide, editor_reviewer, editor2, reviewer
):
    """The attack: er writes text, it is rejected; a colleague restores er's version through the
    history page and submits it; er could approve their own text, since the restore's author
    was the colleague."""
    from reversion.models import Version

    from .admin_forms import change_form_data

    entry = published_lenalidomide
    own = submit(entry, editor_reviewer, "Own text, never public.")
    workflow.reject(entry=entry, user=reviewer, revision=own, comment="No")
    # A colleague's version goes live meanwhile: er's revision is now before the live edition.
    other = submit(entry, editor2, "Something else entirely.")
    workflow.approve(entry=entry, revision=other, user=reviewer, comment="Fine")
    own_version = Version.objects.get_for_object(entry).get(revision=own)

    client.force_login(editor2)
    restore = reverse("admin:monographs_entry_revision", args=[entry.pk, own_version.pk])
    data = change_form_data(client.get(restore))
    data["change_reason"] = "Bring back the earlier wording"
    assert client.post(restore, data).status_code == 302
    restored = workflow.submit(entry=entry, user=editor2).revision
    assert restored.restored.restored_from_id == own.pk

    allowed, reason = workflow.may_approve(editor_reviewer, entry, restored)
    assert not allowed and "four-eyes" in reason
    assert workflow.may_approve(reviewer, entry, restored)[0]


@pytest.mark.parametrize("page", ["product history", "entry recover"])
def test_every_admin_page_that_restores_records_what_it_brought_back(
    client, published_lenalidomide, editor_reviewer, editor2, reviewer, page
):
    """Second attack pass: a product's history page and the recover pages revert the whole
    revision too; the restore recorded by only the entry's history page left them open."""
    from reversion.models import Version

    from monographs.models import Product

    from .admin_forms import change_form_data

    entry = published_lenalidomide
    own = submit(entry, editor_reviewer, "Own text, never public.")
    workflow.reject(entry=entry, user=reviewer, revision=own, comment="No")
    other = submit(entry, editor2, "Something else entirely.")
    workflow.approve(entry=entry, revision=other, user=reviewer, comment="Fine")

    client.force_login(editor2)
    if page == "product history":
        product = Product.objects.filter(entry=entry).first()
        version = Version.objects.get_for_object(product).get(revision=own)
        url = reverse("admin:monographs_product_revision", args=[product.pk, version.pk])
    else:
        version = Version.objects.get_for_object(entry).get(revision=own)
        url = reverse("admin:monographs_entry_recover", args=[version.pk])
    data = change_form_data(client.get(url))
    data["change_reason"] = "Bring back the earlier wording"
    assert client.post(url, data).status_code == 302
    assert "Own text, never public." in entry.sections.first().body
    restored = workflow.submit(entry=entry, user=editor2).revision
    assert not workflow.may_approve(editor_reviewer, entry, restored)[0]


def test_a_planned_withdrawal_also_stops_an_edition_set_to_go_live_after_it(
    published_lenalidomide, editor2, reviewer, reviewer2
):
    entry = published_lenalidomide
    workflow.withdraw(entry=entry, user=reviewer, comment="Discontinued", effective_at=later(1))
    revision = submit(entry, editor2, "Set to go live after the recall.")
    workflow.approve(entry=entry, revision=revision, user=reviewer2, comment="Later", effective_at=later(2))
    events = workflow.publish_due(now=later(1) + datetime.timedelta(minutes=1))
    assert [event.action for event in events] == ["withdrawn", "unscheduled"]
    assert workflow.publish_due(now=later(2) + datetime.timedelta(minutes=1)) == []
    assert state_of(entry).live_edition is None and state_of(entry).state == State.WITHDRAWN
