"""The publication promise as a property: whatever people and the clock do, in any order, with
the shared page cache failing at random, every public surface shows exactly the live edition.

A Hypothesis state machine: an editor, a reviewer, an editor-reviewer and a second reviewer
edit, submit, approve now or later (replacing a waiting edition or not), reject, cancel
schedules, withdraw now or later and restore old versions of two entries, while a clock it
controls (time-machine) passes due times and `publish_due` runs. The shared page cache is on
(a local store that fails or stalls on command, standing in for Redis; the real-Redis stall is
tests/test_concurrency_and_faults.py). The machine keeps its own model of what should be live
(the text of each entry's live edition, from the decisions that succeeded) and after every
step checks, on every surface, that an entry is visible exactly when the model says so and
shows exactly that text; that no live edition was approved by one of its authors; and that
the audit log, replayed, gives the live edition of every entry.

CI runs FORMULARY_PROPERTY_EXAMPLES (default 60) sequences of up to 10 steps; `./run
properties` runs the long campaign (docs/security.md has its count and result).
"""

import datetime
import itertools
import os
import time

import pytest
import redis
import reversion
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.strategies import booleans, integers, sampled_from
from reversion.models import Version

from monographs import booklet_store, public_cache, selectors, workflow, working_copy
from monographs.models import AuditEvent, Edition, Entry, EntryState, RestoredRevision

from .factories import edit, make_entry, make_user, one_product

EXAMPLES = int(os.environ.get("FORMULARY_PROPERTY_EXAMPLES", "60"))
STEPS = int(os.environ.get("FORMULARY_PROPERTY_STEPS", "10"))
START = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=datetime.UTC)  # mid-quarter: "changes" covers it


class FaultyCache(LocMemCache):
    """The shared page cache, failing like a Redis that is down (`fault = "fail"`) or that stalls
    past the client's timeout (`fault = "stall"`)."""

    fault = None

    def _check(self):
        if FaultyCache.fault == "fail":
            raise redis.exceptions.ConnectionError("injected: connection refused")
        if FaultyCache.fault == "stall":
            time.sleep(0.002)
            raise redis.exceptions.TimeoutError("injected: timed out")

    def get(self, *args, **kwargs):
        self._check()
        return super().get(*args, **kwargs)

    def set(self, *args, **kwargs):
        self._check()
        return super().set(*args, **kwargs)


class Publication(RuleBasedStateMachine):
    entries = Bundle("entries")

    def __init__(self):
        super().__init__()
        # Every sequence starts from the same database and an empty cache, and leaves no trace.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._clock = time_machine.travel(START, tick=False)
        self._traveller = self._clock.start()
        FaultyCache.fault = None
        public_cache.retry_now()
        from django.core.cache import caches

        caches["public"].clear()
        self.client = Client()
        self.users = {
            "editor": make_user("p-editor", "Editors"),
            "reviewer": make_user("p-reviewer", "Reviewers"),
            "both": make_user("p-both", "Editors", "Reviewers"),
            "reviewer2": make_user("p-reviewer2", "Reviewers"),
        }
        self.markers = itertools.count(1)
        self.model = {}  # entry id → what should be live (its marker text), waiting, etc.

    def teardown(self):
        FaultyCache.fault = None
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- The model: what a pharmacist expects from the decisions that were accepted. ---

    def _new_marker(self, entry_id):
        return f"Marker e{entry_id} v{next(self.markers)} text."

    @initialize(target=entries)
    def two_entries(self):
        made = []
        for name, drug_class in (("Propertamide", "Test class A"), ("Invariantine", "Test class B")):
            entry = make_entry(
                name,
                user=self.users["editor"],
                sections=[("overview", "", "Placeholder.")],
                products=[one_product(name)],
                drug_class=drug_class,
            )
            marker = self._new_marker(entry.pk)
            edit(entry, user=self.users["editor"], first_section_body=marker)
            self.model[entry.pk] = {
                "working": marker,
                "submitted": None,
                "live": None,
                "waiting": None,  # (marker, due)
                "withdraw_at": None,
                "texts": {marker},
            }
            made.append(entry.pk)
        # Both start live, so a withdrawal or a new edition is one or two steps away.
        for entry_id in made:
            entry = self._entry(entry_id)
            revision = workflow.submit(entry=entry, user=self.users["editor"]).revision
            workflow.approve(entry=entry, user=self.users["reviewer"], revision=revision, comment="First edition")
            self.model[entry_id]["live"] = self.model[entry_id]["working"]
        return entries_multiple(made)

    def _entry(self, entry_id):
        return Entry.objects.get(pk=entry_id)

    def _try(self, call):
        try:
            return call()
        except (workflow.TransitionError, PermissionDenied):
            return None

    # --- What people do. ---

    @rule(entry_id=entries, who=sampled_from(["editor", "both"]))
    def edit_text(self, entry_id, who):
        marker = self._new_marker(entry_id)
        edit(self._entry(entry_id), user=self.users[who], first_section_body=marker)
        model = self.model[entry_id]
        model.update(working=marker, submitted=None)
        model["texts"].add(marker)

    @rule(entry_id=entries, who=sampled_from(["editor", "both"]))
    def submit(self, entry_id, who):
        if self._try(lambda: workflow.submit(entry=self._entry(entry_id), user=self.users[who])):
            self.model[entry_id]["submitted"] = self.model[entry_id]["working"]

    @rule(entry_id=entries, who=sampled_from(["editor", "both"]))
    def save_and_submit(self, entry_id, who):
        """The edit screen's "Save and submit for review": both in one step."""
        self.edit_text(entry_id, who)
        self.submit(entry_id, who)

    @rule(
        entry_id=entries,
        who=sampled_from(["reviewer", "both", "reviewer2"]),
        later=booleans(),
        minutes=integers(1, 120),
        replace=booleans(),
    )
    def approve(self, entry_id, who, later, minutes, replace):
        entry = self._entry(entry_id)
        revision = working_copy.submitted_revision(entry)
        if revision is None:
            return
        due = self._now() + datetime.timedelta(minutes=minutes)
        model = self.model[entry_id]
        event = self._try(
            lambda: workflow.approve(
                entry=entry,
                user=self.users[who],
                revision=revision,
                comment="ok",
                effective_at=due if later else None,
                replace_waiting=replace,
                seen=workflow.state_token(entry),
            )
        )
        if event is None:
            return
        assert replace or model["waiting"] is None, "a waiting edition was replaced without confirmation"
        if later:
            model["waiting"] = (model["submitted"], due)
        else:
            model.update(live=model["submitted"], waiting=None)  # a planned withdrawal stays planned
        model["submitted"] = None

    @rule(entry_id=entries, who=sampled_from(["reviewer", "reviewer2"]))
    def reject(self, entry_id, who):
        entry = self._entry(entry_id)
        revision = working_copy.submitted_revision(entry)
        if revision and self._try(
            lambda: workflow.reject(entry=entry, user=self.users[who], revision=revision, comment="no")
        ):
            self.model[entry_id]["submitted"] = None

    @rule(entry_id=entries, who=sampled_from(["reviewer", "both"]))
    def cancel_schedule(self, entry_id, who):
        if self._try(lambda: workflow.unschedule(entry=self._entry(entry_id), user=self.users[who], comment="stop")):
            self.model[entry_id].update(waiting=None, withdraw_at=None)

    @rule(entry_id=entries, who=sampled_from(["reviewer", "reviewer2"]), later=booleans(), minutes=integers(1, 120))
    def withdraw(self, entry_id, who, later, minutes):
        entry = self._entry(entry_id)
        when = self._now() + datetime.timedelta(minutes=minutes) if later else None
        if self._try(lambda: workflow.withdraw(entry=entry, user=self.users[who], comment="recall", effective_at=when)):
            if later:
                self.model[entry_id]["withdraw_at"] = when
            else:
                self.model[entry_id].update(live=None, waiting=None, withdraw_at=None)

    @rule(entry_id=entries, who=sampled_from(["editor", "both"]), pick=integers(0, 50))
    def restore(self, entry_id, who, pick):
        """Make an old version the working copy again (the admin's "restore"): a new revision."""
        entry = self._entry(entry_id)
        versions = list(Version.objects.get_for_object(entry).select_related("revision"))
        version = versions[pick % len(versions)]
        with reversion.create_revision():
            version.revision.revert(delete=True)
            # As the admin's restore records it: the four-eyes rule follows it to the text's authors.
            reversion.add_meta(RestoredRevision, restored_from_id=version.revision_id)
            reversion.set_user(self.users[who])
            reversion.set_comment("Restored an earlier version")
        restored = self._entry(entry_id).sections.first().body
        self.model[entry_id].update(working=restored, submitted=None)

    # --- The clock. ---

    def _now(self):
        from django.utils import timezone

        return timezone.now()

    @rule(minutes=integers(1, 180))
    def time_passes(self, minutes):
        self._traveller.shift(datetime.timedelta(minutes=minutes))

    @rule()
    def publish_due(self):
        now = self._now()
        workflow.publish_due(now=now)
        for model in self.model.values():
            if model["waiting"] is not None and model["waiting"][1] <= now:
                model.update(live=model["waiting"][0], waiting=None)
            if model["withdraw_at"] is not None and model["withdraw_at"] <= now and model["live"] is not None:
                model.update(live=None, withdraw_at=None, waiting=None)

    # --- The worker building the booklet (in this transaction; the queue is tested live elsewhere). ---

    @rule()
    def booklet_built(self):
        booklet_store.build(booklet_store.ALL, "en", worker_count=1)

    # --- The shared cache failing. ---

    @rule(fault=sampled_from([None, None, "fail", "stall"]))
    def cache_fault(self, fault):
        FaultyCache.fault = fault
        public_cache.retry_now()  # ask it at once, rather than after the back-off

    # --- What must hold after every step. ---

    @precondition(lambda self: self.model)
    @invariant()
    def every_surface_shows_exactly_the_live_edition(self):
        for entry_id, model in self.model.items():
            state = EntryState.objects.select_related("live_edition").get(entry_id=entry_id)
            live = state.live_edition
            expected = model["live"]
            assert (live is None) == (expected is None), (entry_id, model, live)
            if live is not None:
                assert live.content["sections"][0]["body"] == expected
            self._check_surfaces(entry_id, live, expected, model["texts"])

    def _get(self, url, **params):
        response = self.client.get(url, params)
        assert response.status_code < 500, (url, response.status_code)
        return response

    def _check_surfaces(self, entry_id, live, expected, texts):
        slug = self._entry(entry_id).slug
        others = texts - {expected}
        pages = [f"/en/entries/{slug}/", f"/zh-hant/entries/{slug}/", f"/en/entries/{slug}/bilingual/"]
        for url in pages:
            response = self._get(url)
            if expected is None:
                assert response.status_code == 404, url
                continue
            body = response.content.decode()
            assert response.status_code == 200 and expected in body, url
            assert not any(text in body for text in others), url
        link = f"/entries/{slug}/"
        lists = [
            "/en/entries/?letter=" + slug[0].upper(),
            "/zh-hant/entries/",
            "/en/search/?q=" + slug,
        ]
        if live is not None:
            lists.append(f"/en/classes/{live.drug_class.lower().replace(' ', '-')}/")
        for url in lists:
            body = self._get(url).content.decode()
            assert (link in body) == (expected is not None), url
        api = self._get(f"/api/v1/entries/{entry_id}/")
        fhir = self._get(f"/fhir/MedicationKnowledge/{entry_id}")
        if expected is None:
            # FHIR tells a withdrawn resource (410 Gone, it was public) from one never published (404).
            was_public = bool(selectors.went_live_editions(entry_id))
            assert api.status_code == 404 and fhir.status_code == (410 if was_public else 404)
        else:
            record = api.json()
            assert expected in str(record["sections"])
            updated_at = datetime.datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))
            assert abs(updated_at - live.live_state.live_since) < datetime.timedelta(seconds=1)
            assert fhir.json()["meta"]["versionId"] == str(live.number)
        # The changes page and its feed link a new or changed entry only while it is live.
        changes = self._get("/en/changes/").content.decode()
        feed = self._get("/en/changes/feed/").content.decode()
        if expected is None:
            assert link not in changes and link not in feed
        # The booklet a request gets may lag a publication, never a withdrawal: every entry in the
        # file served is live, and none was withdrawn after the file was read.
        served = booklet_store.choose(booklet_store.ALL, "en").built
        if served is not None:
            held = {held_id for held_id, _edition_id in served.entries}
            if entry_id in held:
                assert expected is not None, "a booklet holding a withdrawn entry was served"
                withdrawn = AuditEvent.objects.filter(entry_id=entry_id, action="withdrawn")
                read_at = served.built_at - datetime.timedelta(seconds=served.build_seconds)
                assert not withdrawn.filter(created_at__gte=read_at).exists()

    @precondition(lambda self: self.model)
    @invariant()
    def no_live_edition_was_approved_by_one_of_its_authors(self):
        for state in EntryState.objects.filter(entry_id__in=self.model, live_edition__isnull=False):
            edition = state.live_edition
            went_live_before = AuditEvent.objects.filter(
                entry_id=state.entry_id,
                action__in=["approved", "went_live"],
                edition__revision_id__lt=edition.revision_id,
            ).values_list("edition__revision_id", flat=True)
            since = max(went_live_before, default=0)
            authors = set(
                Version.objects.get_for_object_reference(Entry, state.entry_id)
                .filter(revision_id__gt=since, revision_id__lte=edition.revision_id)
                .values_list("revision__user_id", flat=True)
            )
            assert edition.approved_by_id not in authors, (edition.number, edition.approved_by_id, authors)

    @precondition(lambda self: self.model)
    @invariant()
    def the_audit_log_replayed_gives_the_live_edition(self):
        for entry_id in self.model:
            live = None
            for event in AuditEvent.objects.filter(entry_id=entry_id).order_by("id"):
                if event.action in ("approved", "went_live"):
                    live = event.edition_id
                elif event.action == "withdrawn":
                    live = None
            state = EntryState.objects.get(entry_id=entry_id)
            assert state.live_edition_id == live
            assert Edition.objects.filter(entry_id=entry_id, pk=live).exists() or live is None


def entries_multiple(ids):
    from hypothesis.stateful import multiple

    return multiple(*ids)


@pytest.fixture
def shared_faulty_cache(settings):
    settings.REDIS_URL = "redis://injected-faults.invalid:6379/0"  # turns the shared cache on
    settings.FORMULARY_PUBLIC_CACHE_HOSTS = ["testserver"]
    settings.CACHES = {
        **settings.CACHES,
        "public": {"BACKEND": "tests.test_publication_properties.FaultyCache", "LOCATION": "property-pages"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "property-throttle"},
    }
    # Hundreds of requests a sequence from one address: the rate limits are not under test here.
    settings.FORMULARY_SEARCH_THROTTLE_RATE = None
    settings.FORMULARY_API_THROTTLE_RATE = None


def test_every_surface_shows_exactly_the_live_edition(db, shared_faulty_cache):
    Publication.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(Publication, settings=Publication.TestCase.settings)
