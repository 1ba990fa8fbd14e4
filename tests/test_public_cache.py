"""Public pages any cache may keep: no cookie, validators and 304s, and the shared Redis page cache
(monographs/public_cache.py, docs/public-pages.md)."""

import datetime
import logging
import uuid

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date

from monographs import public_cache, publication, workflow

from .factories import edit, make_published
from .suite_services import redis_url

ENTRY = "/en/entries/lenalidomide/"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    cache.clear()  # the monograph fragments of entry pages
    monkeypatch.setattr(public_cache, "_store_down_until", 0.0)
    yield
    cache.clear()


def shared_cache(settings, location=None):
    """Turn the shared page cache on, with a key prefix of its own (nothing cached before interferes),
    for the test client's host. By default on the run's own Redis (clear() empties a whole database)."""
    location = location or redis_url(8)
    settings.REDIS_URL = location
    settings.FORMULARY_PUBLIC_CACHE_HOSTS = ["testserver"]
    settings.CACHES = {
        **settings.CACHES,
        "public": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }


@pytest.fixture
def redis_cache(settings):
    try:
        redis.Redis.from_url(redis_url(8), socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"The run's own Redis at {redis_url(8)} does not answer.")
    shared_cache(settings)
    yield
    from django.core.cache import caches

    caches["public"].clear()


@pytest.fixture
def formulary(published_lenalidomide, editor, reviewer):
    """Lenalidomide in two editions (so there is a comparison), and Metformin."""
    edit(published_lenalidomide, user=editor, first_section_body="Second edition text.")
    submitted = workflow.submit(entry=published_lenalidomide, user=editor)
    workflow.approve(entry=published_lenalidomide, revision=submitted.revision, user=reviewer, comment="Again")
    make_published("Metformin", editor=editor, reviewer=reviewer, drug_class="Biguanide")
    return published_lenalidomide


def public_pages():
    """One address of every kind of public page, with the status it answers."""
    return [
        ("/en/", 200),
        ("/en/entries/", 200),
        ("/en/entries/?letter=L&page=1", 200),
        (ENTRY, 200),
        ("/zh-hant/entries/lenalidomide/", 200),
        ("/en/entries/lenalidomide/compare/1/2/", 200),
        ("/en/changes/", 200),
        ("/en/changes/feed/", 200),
        ("/en/classes/", 200),
        ("/en/classes/biguanide/", 200),
        ("/en/search/", 200),
        ("/en/search/?q=lenalidomide", 200),
        ("/en/search/?q=Biguanide", 200),  # a class name (a typo is answered, not kept)
    ]


def approve_new_text(entry, text, *, editor, reviewer, **approval):
    """Edit and approve, running the on-commit callbacks as a real commit would."""
    edit(entry, user=editor, first_section_body=text)
    submitted = workflow.submit(entry=entry, user=editor)
    workflow.approve(entry=entry, revision=submitted.revision, user=reviewer, comment="OK", **approval)


# --- The same page for everyone: no cookie, no Vary: Cookie. ---


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_public_pages_set_no_cookie_and_do_not_vary_by_cookie(client, formulary, editor, who):
    if who == "staff":
        client.force_login(editor)
        client.cookies["formulary_editor"] = "1"
    for url, status in public_pages():
        response = client.get(url)
        assert response.status_code == status, url
        assert not response.cookies, (url, response.cookies)
        assert "cookie" not in response.get("Vary", "").lower(), (url, response.get("Vary"))
        assert "csrfmiddlewaretoken" not in response.content.decode(), url


def test_a_signed_in_editor_gets_byte_for_byte_the_anonymous_page(client, formulary, editor):
    anonymous = {url: client.get(url).content for url, _status in public_pages()}
    client.force_login(editor)
    for url, _status in public_pages():
        assert client.get(url).content == anonymous[url], url


# --- HTTP caching: validators, 304, Cache-Control. ---


def test_entry_page_validators_come_from_its_live_edition(client, formulary, editor, reviewer):
    response = client.get(ENTRY)
    formulary.state.refresh_from_db()
    went_live = formulary.state.live_since  # a moment after the approval: not always the same second

    assert response["Cache-Control"] == "public, no-cache"
    assert response["Last-Modified"] == http_date(went_live.timestamp())
    assert response["ETag"].startswith('"')
    # Another entry's publication does not change this page's validator; the language does.
    make_published("Aspirin", editor=editor, reviewer=reviewer)
    assert client.get(ENTRY)["ETag"] == response["ETag"]
    assert client.get("/zh-hant/entries/lenalidomide/")["ETag"] != response["ETag"]
    # Its own new edition does.
    approve_new_text(formulary, "Third edition text.", editor=editor, reviewer=reviewer)
    assert client.get(ENTRY)["ETag"] != response["ETag"]


def test_conditional_get_of_an_entry_page_is_304_until_it_changes(client, formulary, editor, reviewer):
    first = client.get(ENTRY)

    again = client.get(ENTRY, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = client.get(ENTRY, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert by_date.status_code == 304
    approve_new_text(formulary, "Third edition text.", editor=editor, reviewer=reviewer)
    changed = client.get(ENTRY, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and "Third edition text." in changed.content.decode()


@pytest.mark.parametrize("url", ["/en/", "/en/entries/", "/en/classes/", "/en/changes/", "/en/search/?q=metformin"])
def test_lists_and_search_are_validated_by_the_publication_stamp(client, formulary, editor, reviewer, url):
    first = client.get(url)
    assert first["Cache-Control"] == "public, no-cache" and first["ETag"] and first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    make_published("Aspirin", editor=editor, reviewer=reviewer)  # anywhere in the formulary

    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_max_age_setting_lets_caches_serve_without_asking(client, formulary, settings):
    settings.FORMULARY_PUBLIC_MAX_AGE = 120

    assert client.get(ENTRY)["Cache-Control"] == "public, max-age=120"
    assert client.get("/en/entries/")["Cache-Control"] == "public, max-age=120"


def test_errors_and_refusals_are_never_stored_by_a_shared_cache(client, formulary, settings):
    settings.FORMULARY_SEARCH_THROTTLE_RATE = "1/minute"
    client.get("/en/search/?q=metformin")
    responses = {
        "404": client.get("/en/entries/no-such-entry/"),
        "400": client.get("/en/changes/?from=yesterday"),
        "429": client.get("/en/search/?q=metformin"),
    }
    for status, response in responses.items():
        assert str(response.status_code) == status
        assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"], status


# --- The shared page cache (Redis). ---


def test_a_shared_cache_hit_reads_only_the_stamp_and_renders_no_template(
    client, formulary, redis_cache, django_assert_num_queries
):
    for url, _status in public_pages():
        first = client.get(url)
        with django_assert_num_queries(1):  # the publication stamp, from PostgreSQL
            hit = client.get(url)
        assert hit.status_code == 200, url
        assert hit.templates == [], url
        assert hit.content == first.content and hit["ETag"] == first["ETag"], url
        assert hit["Cache-Control"] == "public, no-cache", url
        assert not hit.cookies and "cookie" not in hit.get("Vary", "").lower(), url
        # What an operator (and bench/run.py's hit ratio) reads off the response.
        assert (first["X-Formulary-Cache"], hit["X-Formulary-Cache"]) == ("miss", "hit"), url


def test_without_the_shared_cache_no_cache_status_is_claimed(client, formulary):
    response = client.get(ENTRY)
    assert response.status_code == 200 and "X-Formulary-Cache" not in response


def test_a_hit_answers_a_conditional_get_with_304(client, formulary, redis_cache, django_assert_num_queries):
    etag = client.get(ENTRY)["ETag"]

    with django_assert_num_queries(1):
        response = client.get(ENTRY, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_a_signed_in_reader_gets_the_cached_page_too(client, formulary, editor, redis_cache, django_assert_num_queries):
    anonymous = client.get(ENTRY).content
    client.force_login(editor)

    with django_assert_num_queries(1):
        signed_in = client.get(ENTRY)

    assert signed_in.content == anonymous and not signed_in.cookies


def test_search_by_registration_number_redirect_is_cached(client, formulary, redis_cache, django_assert_num_queries):
    number = formulary.state.live_edition.content["products"][0]["strengths"][0]["registration_number"]
    first = client.get("/en/search/", {"q": number})
    assert first.status_code == 302 and first["Location"].startswith(ENTRY)

    with django_assert_num_queries(1):
        hit = client.get("/en/search/", {"q": number})

    assert hit.status_code == 302 and hit["Location"] == first["Location"]


def test_the_search_throttle_counts_cached_searches(client, formulary, redis_cache, settings):
    settings.FORMULARY_SEARCH_THROTTLE_RATE = "2/minute"

    statuses = [client.get("/en/search/", {"q": "metformin"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_errors_admin_and_api_are_not_cached(client, formulary, superuser, redis_cache, django_assert_max_num_queries):
    client.get("/en/entries/no-such-entry/")
    client.get("/api/v1/entries/")
    client.force_login(superuser)
    client.get("/admin/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in ["/en/entries/no-such-entry/", "/api/v1/entries/", "/admin/"]:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        assert len(queries) > 0, url  # answered by the application, not from the cache


def test_only_the_parameters_a_page_reads_make_a_cached_copy(client, formulary, redis_cache):
    """An outsider cannot fill Redis with copies of a page by adding made-up parameters."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in ["/en/entries/?letter=L&junk=1", "/en/?x=1", "/en/entries/?letter=L&letter=M"]:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) > 0, url  # rendered again: it was not kept


@pytest.mark.parametrize(
    "url, host",
    [
        ("/en/entries/?page=999", "testserver"),  # beyond the last page
        ("/en/entries/?page=banana", "testserver"),
        ("/en/entries/?letter=Q", "testserver"),  # a letter with no entries
        ("/en/entries/?letter=%E2%80%BD", "testserver"),  # not a letter at all
        ("/en/search/?q=zzqqxxyy", "testserver"),  # finds nothing
        ("/en/changes/?from=1900-01-01&to=1900-03-31", "testserver"),  # before the formulary's history
        ("/en/changes/?from=2999-01-01&to=2999-03-31", "testserver"),  # after today
        ("/en/changes/feed/?language=xx", "testserver"),
        ("/en/entries/", "testserver:1"),  # another spelling of the address
        ("/en/entries/", "other.example"),
        ("/en/entries/lenalidomide/?&&&", "testserver"),  # the same page, spelled otherwise
        ("/en/entries/?page=%31", "testserver"),
        ("/en/entries/?letter=l", "testserver"),
        ("/en/entries/?status=speciall", "testserver"),  # not a formulary status
        ("/en/entries/?status=non_formulary", "testserver"),  # a status, but not one a list filters by
        ("/en/entries/?changed=yes", "testserver"),
        ("/en/classes/immunomodulatory-imide-drug/?status=SPECIAL", "testserver"),
        ("/en/search/?q=%6cenalidomide", "testserver"),
        ("/en/search/?q=lenalidomide+junk7781", "testserver"),  # finds it, but names nothing
        ("/en/search/?q=LENALIDOMIDE", "testserver"),  # one of many spellings of a name
        ("/en/search/?q=+lenalidomide", "testserver"),
        ("/en/search/?q=lenalidomide%01", "testserver"),
        ("/en/entries/lenalidomide/compare/01/2/", "testserver"),  # edition 1, spelled otherwise
        ("/en/entries/lenalidomide/compare/1/0002/", "testserver"),
    ],
)
def test_only_values_that_name_something_real_are_kept(client, formulary, redis_cache, settings, url, host):
    """`?page=<random>`, `?letter=<random>`, dates and Host variants are answered but never kept:
    an outsider cannot fill Redis with them (about 8 KB a request before)."""
    from django.core.cache import caches

    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    store = caches["public"]
    before = len(store._cache.get_client().keys(f"{store.key_prefix}*"))
    first = client.get(url, HTTP_HOST=host)
    second = client.get(url, HTTP_HOST=host)
    assert first.status_code in (200, 400) and second.get("X-Formulary-Cache") != "hit", url
    assert len(store._cache.get_client().keys(f"{store.key_prefix}*")) == before, url


@pytest.mark.parametrize(
    "url",
    [
        "/en/entries/?page=1",
        "/en/entries/?letter=L",
        "/en/search/?q=lenalidomide",
        "/en/entries/?status=special",
        "/en/entries/?letter=L&status=sfi_safety_net&changed=quarter",
        "/en/classes/immunomodulatory-imide-drug/?status=special",
    ],
)
def test_values_that_name_something_real_are_kept(client, formulary, redis_cache, url):
    client.get(url)
    assert client.get(url)["X-Formulary-Cache"] == "hit", url


def test_approval_is_seen_on_the_next_request(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    assert "Second edition text." in client.get(ENTRY).content.decode()
    assert "Aspirin" not in client.get("/en/entries/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        approve_new_text(formulary, "Third edition text.", editor=editor, reviewer=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        make_published("Aspirin", editor=editor, reviewer=reviewer)

    assert "Third edition text." in client.get(ENTRY).content.decode()
    assert "Aspirin" in client.get("/en/entries/").content.decode()


def test_withdrawal_is_seen_on_the_next_request(
    client, formulary, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    assert client.get(ENTRY).status_code == 200
    assert "Lenalidomide" in client.get("/en/search/?q=lenalidomide").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(entry=formulary, user=reviewer, comment="Off the formulary")

    assert client.get(ENTRY).status_code == 404
    assert "/en/entries/lenalidomide/" not in client.get("/en/search/?q=lenalidomide").content.decode()


def test_scheduled_go_live_is_seen_on_the_next_request(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    soon = timezone.now() + datetime.timedelta(hours=1)  # far enough that a slow machine cannot reach it first
    with django_capture_on_commit_callbacks(execute=True):
        approve_new_text(formulary, "Scheduled text.", editor=editor, reviewer=reviewer, effective_at=soon)
    assert "Scheduled text." not in client.get(ENTRY).content.decode()  # cached: not live yet

    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish_due(now=soon + datetime.timedelta(seconds=1))

    assert "Scheduled text." in client.get(ENTRY).content.decode()


# --- Only what changed: an entry's own pages are keyed by its stamp, every list by the formulary's. ---

METFORMIN = "/en/entries/metformin/"


def test_approving_one_entry_leaves_another_entrys_cached_page_reachable(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    for url in (ENTRY, METFORMIN, "/zh-hant/entries/metformin/", "/en/entries/metformin/bilingual/"):
        client.get(url)

    with django_capture_on_commit_callbacks(execute=True):
        approve_new_text(formulary, "Third edition text.", editor=editor, reviewer=reviewer)

    for url in (METFORMIN, "/zh-hant/entries/metformin/", "/en/entries/metformin/bilingual/"):
        assert client.get(url)["X-Formulary-Cache"] == "hit", url  # still reachable: nothing on it changed
    changed = client.get(ENTRY)
    assert changed["X-Formulary-Cache"] == "miss" and "Third edition text." in changed.content.decode()


@pytest.mark.parametrize("url", ["/en/", "/en/entries/", "/en/classes/", "/en/changes/", "/en/changes/feed/"])
def test_approving_one_entry_makes_every_list_new_at_once(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks, url
):
    client.get(url)
    assert client.get(url)["X-Formulary-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        approve_new_text(formulary, "Third edition text.", editor=editor, reviewer=reviewer)

    assert client.get(url)["X-Formulary-Cache"] == "miss"


def test_a_new_entry_appears_in_search_and_its_class_at_once(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    for url in ("/en/search/?q=Biguanide", "/en/classes/biguanide/"):
        client.get(url)
        assert "Phenformin" not in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        make_published("Phenformin", editor=editor, reviewer=reviewer, drug_class="Biguanide")

    for url in ("/en/search/?q=Biguanide", "/en/classes/biguanide/"):
        assert "Phenformin" in client.get(url).content.decode(), url


def test_withdrawing_one_entry_removes_it_everywhere_and_leaves_others_cached(
    client, formulary, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    for url in (ENTRY, "/en/entries/lenalidomide/bilingual/", METFORMIN, "/en/entries/"):
        client.get(url)

    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(entry=formulary, user=reviewer, comment="Off the formulary")

    assert client.get(ENTRY).status_code == 404
    assert client.get("/en/entries/lenalidomide/bilingual/").status_code == 404
    assert "/en/entries/lenalidomide/" not in client.get("/en/entries/").content.decode()
    assert client.get(METFORMIN)["X-Formulary-Cache"] == "hit"


def test_a_new_entry_at_a_withdrawn_entrys_address_is_not_served_the_old_page(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    """The key names the entry live at the address, not the address alone."""
    assert "Second edition text." in client.get(ENTRY).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(entry=formulary, user=reviewer, comment="Replaced by a new monograph")
    edit(formulary, user=editor, generic_name="Lenalidomide (old)", slug="lenalidomide-old")  # a draft
    with django_capture_on_commit_callbacks(execute=True):
        make_published("Lenalidomide", editor=editor, reviewer=reviewer)

    page = client.get(ENTRY)

    assert page.status_code == 200 and page["X-Formulary-Cache"] == "miss"
    assert "Second edition text." not in page.content.decode()


def test_an_entry_page_hit_reads_only_its_entrys_stamp(
    client, formulary, editor, reviewer, redis_cache, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(METFORMIN)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(METFORMIN)["X-Formulary-Cache"] == "hit"
    assert len(queries) == 1 and "monographs_entrystate" in queries[0]["sql"]


def test_each_publication_counts_on_its_own_entry_in_the_same_transaction(formulary, reviewer):
    from django.db import transaction

    metformin = publication.entry_stamp("metformin")
    before = publication.entry_stamp("lenalidomide")
    with transaction.atomic():
        workflow.withdraw(entry=formulary, user=reviewer, comment="Off the formulary")
        assert publication.entry_stamp("lenalidomide") is None  # no live entry at the address
        formulary.state.refresh_from_db()
        assert formulary.state.publications == before.number + 1
    assert publication.entry_stamp("metformin") == metformin


def test_every_public_view_declares_whether_the_shared_cache_may_keep_it():
    """A new public page is not kept until its view says which parameters it reads."""
    from django.urls import get_resolver

    public = get_resolver().url_patterns
    views = {}

    def collect(patterns, inside):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                collect(pattern.url_patterns, inside or getattr(pattern, "namespace", None) == "monographs")
            elif inside:
                views[pattern.name] = pattern.callback

    collect(public, False)
    assert {"entry_detail", "search", "changes_feed", "booklet"} <= set(views)
    undeclared = [name for name, view in views.items() if not hasattr(view, "shared_page")]
    assert not undeclared, undeclared


def test_the_stamp_is_counted_in_postgresql_by_the_publishing_transaction(formulary, editor, reviewer, redis_cache):
    from django.db import transaction

    before = publication.publication_stamp()
    with transaction.atomic():
        make_published("Aspirin", editor=editor, reviewer=reviewer)
        inside = publication.publication_stamp()
    after = publication.publication_stamp()
    assert inside.number == after.number == before.number + 1
    assert after.changed_at > before.changed_at and str(after) != str(before)


def test_without_redis_every_request_reaches_the_database(client, formulary, settings):
    settings.REDIS_URL = ""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(ENTRY)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ENTRY)

    assert response.status_code == 200 and len(queries) > 0


def test_redis_down_renders_pages_without_the_cache_and_logs_a_warning(client, formulary, settings, caplog):
    shared_cache(settings, "redis://127.0.0.1:1/8")  # nothing listens on port 1

    with caplog.at_level(logging.WARNING, logger="monographs.public_cache"):
        responses = [client.get(url) for url, _status in public_pages()]

    assert [response.status_code for response in responses] == [status for _url, status in public_pages()]
    assert "Second edition text." in client.get(ENTRY).content.decode()
    warnings = [record for record in caplog.records if record.name == "monographs.public_cache"]
    # One warning for the outage, not one per request: Redis is not asked again for a few seconds.
    assert len(warnings) == 1 and "rendered without it" in warnings[0].getMessage()


def test_a_publication_during_an_outage_is_not_hidden_once_redis_is_back(
    client, formulary, editor, reviewer, settings, django_capture_on_commit_callbacks, redis_cache, monkeypatch
):
    assert "Second edition text." in client.get(ENTRY).content.decode()  # cached
    working = settings.CACHES["public"]
    shared_cache(settings, "redis://127.0.0.1:1/8")
    with django_capture_on_commit_callbacks(execute=True):
        approve_new_text(formulary, "Published while Redis was down.", editor=editor, reviewer=reviewer)
    assert "Published while Redis was down." in client.get(ENTRY).content.decode()  # rendered, not cached

    settings.CACHES = {**settings.CACHES, "public": working}  # back, with the old stamp and pages
    monkeypatch.setattr(public_cache, "_store_down_until", 0.0)

    assert "Published while Redis was down." in client.get(ENTRY).content.decode()


def test_language_prefix_and_translate_keep_separate_cache_entries(client, formulary, redis_cache):
    english = client.get(ENTRY).content.decode()
    with translation.override("zh-hant"):
        chinese_address = reverse("monographs:entry_detail", args=["lenalidomide"])
    chinese = client.get(chinese_address).content.decode()
    assert client.get(chinese_address).content.decode() == chinese  # the hit
    assert '<html lang="zh-Hant">' in chinese and '<html lang="en">' in english
