import functools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from monographs import workflow, working_copy
from monographs.demo import load_lenalidomide
from monographs.models import Entry
from monographs.roles import sync_roles


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no requests counted (the counters live in one process-wide cache).

    Only a local-memory store is cleared: with REDIS_URL exported, clear() would empty
    that whole Redis database. The Redis tests use their own database and key prefix.
    """
    store = caches["throttle"]
    if isinstance(store, LocMemCache):
        store.clear()


@functools.cache
def _password_hash(password):
    # Argon2 is slow on purpose; hash each test password once per run.
    return make_password(password)


def make_user(username, *groups, superuser=False):
    # Transactional tests flush the groups the migration made; put them back.
    sync_roles(Group, Permission)
    user = get_user_model().objects.create(
        username=username,
        email=f"{username}@example.org",
        password=_password_hash(f"pw-{username}-123"),
        is_staff=True,
        is_superuser=superuser,
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def superuser(db):
    return make_user("chief", superuser=True)


@pytest.fixture
def editor(db):
    return make_user("editor", "Editors")


@pytest.fixture
def editor2(db):
    return make_user("editor2", "Editors")


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", "Reviewers")


@pytest.fixture
def reviewer2(db):
    return make_user("reviewer2", "Reviewers")


@pytest.fixture
def reader(db):
    return make_user("reader", "Readers")


@pytest.fixture
def lenalidomide(db):
    """The seed monograph with three products of six strengths each, as in the demo (a draft)."""
    return load_lenalidomide()


@pytest.fixture
def published_lenalidomide(lenalidomide, editor, reviewer):
    """Lenalidomide submitted by an editor and approved by a reviewer: live on public pages."""
    workflow.submit(entry=lenalidomide, user=editor, comment="Ready for review")
    workflow.approve(
        entry=lenalidomide,
        revision=working_copy.submitted_revision(lenalidomide),
        user=reviewer,
        comment="Checked against the PI",
    )
    return Entry.objects.get(pk=lenalidomide.pk)


@pytest.fixture
def make_editor_reviewer(db):
    """A senior pharmacist who both edits and reviews."""
    return make_user("senior", "Editors", "Reviewers")
