"""Rate limits that a client cannot reset and that all workers share.

The client address comes from one function, `formulary.client_ip.client_ip`,
which believes X-Forwarded-For only as far as FORMULARY_TRUSTED_PROXIES says;
the API, FHIR and the public search count in the "throttle" cache (Redis when
REDIS_URL is set) with atomic increments; Redis down lets requests through with
a warning. The live test runs gunicorn with two workers against Redis.
"""

import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from axes.models import AccessAttempt
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import reverse

from formulary.client_ip import client_ip
from monographs import throttling
from monographs.throttling import ClientRateThrottle

from .gunicorn_process import GunicornProcess
from .server_process import Browser
from .suite_services import redis_url, run_database_name

API = "/api/v1/entries/"


def throttle_redis_url():
    """Database 5 of the run's own Redis (these tests flush it; never the machine's Redis)."""
    return redis_url(5)


def redis_or_fail():
    client = redis.Redis.from_url(throttle_redis_url(), socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"The run's own Redis at {throttle_redis_url()} does not answer.")
    return client


def redis_cache_settings(location):
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            # A prefix of its own per test, so nothing counted before can interfere.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }


# The client address.


def request_from(remote_addr, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.FORMULARY_TRUSTED_PROXIES = 0
    assert client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # nginx appends the address it saw; whatever the client sent stands to its left.
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "1.1.1.1, 2.2.2.2, 203.0.113.9", "203.0.113.9"),
        # A CDN, then nginx: the CDN's entry is the client, nginx's peer is the CDN.
        (2, "6.6.6.6, 203.0.113.9, 192.0.2.50", "203.0.113.9"),
        # Fewer entries than proxies: the request skipped one; its left-most entry is the best we have.
        (2, "203.0.113.9", "203.0.113.9"),
        (1, "", "10.0.0.2"),
        # An unreadable entry where the client should be: the proxy's own address, never the junk.
        (1, "1.1.1.1, not-an-address", "10.0.0.2"),
        # One IPv6 address, one spelling.
        (1, "2001:DB8:0:0::1", "2001:db8::1"),
    ],
)
def test_with_trusted_proxies_the_rightmost_untrusted_address_is_the_client(settings, proxies, forwarded, expected):
    settings.FORMULARY_TRUSTED_PROXIES = proxies
    assert client_ip(request_from("10.0.0.2", forwarded)) == expected


def test_no_usable_address_is_none(settings):
    settings.FORMULARY_TRUSTED_PROXIES = 0
    assert client_ip(request_from("")) is None


# One count per client, whatever X-Forwarded-For says.


def test_varied_forwarded_for_values_from_one_address_are_throttled_on_the_api(client, db, settings):
    settings.FORMULARY_API_THROTTLE_RATE = "5/minute"
    statuses = [client.get(API, headers={"X-Forwarded-For": f"10.{i}.0.1"}).status_code for i in range(8)]
    assert statuses == [200] * 5 + [429] * 3


def test_varied_forwarded_for_values_are_throttled_on_fhir(client, db, settings):
    settings.FORMULARY_API_THROTTLE_RATE = "3/minute"
    statuses = [
        client.get("/fhir/MedicationKnowledge", headers={"X-Forwarded-For": f"10.{i}.0.1"}).status_code
        for i in range(5)
    ]
    assert statuses == [200] * 3 + [429] * 2


def test_with_one_trusted_proxy_the_rightmost_untrusted_address_is_counted(client, db, settings):
    settings.FORMULARY_TRUSTED_PROXIES = 1
    settings.FORMULARY_API_THROTTLE_RATE = "3/minute"
    # All from 203.0.113.9 as nginx saw it, each with a different invented prefix.
    same_client = [
        client.get(API, headers={"X-Forwarded-For": f"10.{i}.0.1, 203.0.113.9"}).status_code for i in range(4)
    ]
    assert same_client == [200, 200, 200, 429]
    # Another address behind the same proxy has its own count.
    assert client.get(API, headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.10"}).status_code == 200


def test_failed_logins_are_counted_per_client_address_not_per_forwarded_header(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 3
    url = reverse("admin:login")
    for i in range(3):
        client.post(url, {"username": "editor", "password": "wrong"}, headers={"X-Forwarded-For": f"10.{i}.0.1"})
    response = client.post(
        url, {"username": "editor", "password": "pw-editor-123"}, headers={"X-Forwarded-For": "10.9.0.1"}
    )
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_behind_one_proxy_axes_records_the_client_not_the_proxy(client, editor, settings):
    settings.FORMULARY_TRUSTED_PROXIES = 1
    client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "wrong"},
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]


# The public HTML search.


def test_public_search_is_throttled_with_a_clear_page(client, published_lenalidomide, settings):
    settings.FORMULARY_SEARCH_THROTTLE_RATE = "3/minute"
    url = reverse("monographs:search")
    # The empty form costs nothing and is not counted.
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5
    statuses = [client.get(url, {"q": "lenalidomide"}, headers={"X-Forwarded-For": f"10.{i}.0.1"}) for i in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert int(refused["Retry-After"]) > 0
    text = refused.content.decode()
    assert "Too many searches" in text and "搜尋次數過多" in text
    assert f"wait {refused['Retry-After']} seconds" in text
    # Other pages are not limited.
    assert client.get(reverse("monographs:entry_list")).status_code == 200
    settings.FORMULARY_SEARCH_THROTTLE_RATE = "off"
    assert client.get(url, {"q": "lenalidomide"}).status_code == 200


# Counting: atomic, in Redis when configured, open when Redis is down.


def test_window_edges_do_not_double_the_rate(settings, monkeypatch):
    """A client that spends its rate at the end of one window gets it back gradually, not at once."""
    settings.FORMULARY_API_THROTTLE_RATE = "10/minute"
    request = request_from("198.51.100.7")
    clock = [600.0 * 60 + 59]  # the last second of a window
    monkeypatch.setattr(throttling.time, "time", lambda: clock[0])
    assert all(ClientRateThrottle().allow_request(request, None) for _ in range(10))
    clock[0] += 2  # one second into the next window: the previous one still counts almost fully
    throttle = ClientRateThrottle()
    assert not throttle.allow_request(request, None)
    assert 0 < throttle.wait() <= 60
    clock[0] += 30  # half of the previous window has slid out: five more
    assert [ClientRateThrottle().allow_request(request, None) for _ in range(6)] == [True] * 5 + [False]


@pytest.mark.parametrize("store", ["local memory", "redis"])
def test_concurrent_requests_get_one_exact_count(settings, store):
    if store == "redis":
        redis_or_fail()
        settings.CACHES = redis_cache_settings(throttle_redis_url())
    settings.FORMULARY_API_THROTTLE_RATE = "25/hour"
    request = request_from("198.51.100.7")
    threads = 16
    start = threading.Barrier(threads)

    def ask(_):
        return ClientRateThrottle().allow_request(request, None)

    def burst(_):
        start.wait()  # all threads ask at the same moment
        return [ask(i) for i in range(12)]

    with ThreadPoolExecutor(threads) as pool:
        allowed = [answer for answers in pool.map(burst, range(threads)) for answer in answers]
    assert allowed.count(True) == 25
    if store == "redis":
        caches["throttle"].clear()


def test_redis_down_lets_requests_through_and_logs_a_warning(client, db, settings, caplog, monkeypatch):
    monkeypatch.setattr(throttling, "_store_down_until", 0.0)
    # Nothing listens on port 1.
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/5")
    settings.FORMULARY_API_THROTTLE_RATE = "1/minute"
    with caplog.at_level(logging.WARNING, logger="monographs.throttling"):
        statuses = [client.get(API).status_code for _ in range(4)]
    assert statuses == [200] * 4
    warnings = [r for r in caplog.records if r.name == "monographs.throttling"]
    # One warning for the outage, not one per request: the store is not asked again for a few seconds.
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "not being limited" in warnings[0].getMessage()
    # Back after the pause: limits apply again as soon as the store answers.
    monkeypatch.setattr(throttling, "_store_down_until", 0.0)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "after-outage"},
    }
    assert [client.get(API).status_code for _ in range(2)] == [200, 429]


@pytest.fixture
def gunicorn_with_redis():
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("a real PostgreSQL server is needed")
    store = redis_or_fail()
    # Start from nothing counted.
    store.flushdb()
    server = GunicornProcess(
        run_database_name("throttle"),
        base,
        workers=2,
        REDIS_URL=throttle_redis_url(),
        FORMULARY_API_THROTTLE_RATE="12/day",
    )
    server.create_database()
    server.start()
    yield server
    server.stop()
    store.flushdb()


def test_two_gunicorn_workers_share_one_count_in_redis(gunicorn_with_redis):
    server = gunicorn_with_redis
    browser = Browser(server.base_url)
    day = int(time.time() // 86400)
    # Concurrent requests, so both workers take some (each handles one at a time).
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: browser.request(API)[0], range(40)))
    if int(time.time() // 86400) != day:
        pytest.skip("the day's window turned over during the test")
    log = server.read_output()
    # Both workers must have answered (allowed or refused): only then does one exact count prove sharing.
    workers = {line.split()[0] for line in log.splitlines() if line.startswith("<")}
    assert len(workers) == 2, f"expected both workers to answer:\n{log}"
    # Per-process counting would let each worker allow 12.
    assert statuses.count(200) == 12 and statuses.count(429) == 28, statuses
