"""What a shared-cache hit on a public page costs in-process, and what it asks PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/formulary_bench REDIS_URL=redis://127.0.0.1:6380/0 \\
        .venv/bin/python -m bench.page_hit [--calls 3000] [--entries 200]

Needs a migrated database with published entries (`manage.py generate_formulary`) and a Redis
of the benchmark's own (the page cache is cleared under a key prefix of this run only). Through
the whole middleware stack with Django's test Client, measured in one run: a bare view answering
"ok" (the floor: the stack without any page), then shared-cache hits on entry pages (rotating
over --entries live entries) and on the A–Z list. Prints medians and p95 in microseconds, the
ratios to the bare view, and the SQL queries and Redis commands of one hit.
"""

import argparse
import os
import statistics
import time
import uuid


def _timings(call, calls):
    samples = []
    for index in range(calls):
        started = time.perf_counter_ns()
        call(index)
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--entries", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formulary.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from bench.urls import BASELINE_PATH
    from monographs import selectors

    slugs = list(selectors.live_editions_by_name().values_list("slug", flat=True)[: args.entries])
    caches = {
        **settings.CACHES,
        "public": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"bench-{uuid.uuid4().hex}",
        },
    }
    with override_settings(
        CACHES=caches, FORMULARY_PUBLIC_CACHE_HOSTS=["testserver"], ROOT_URLCONF="bench.urls", DEBUG=False
    ):
        client = Client()
        for slug in slugs:  # fill the cache
            assert client.get(f"/en/entries/{slug}/").status_code == 200
        client.get("/en/entries/")
        hit = client.get(f"/en/entries/{slugs[0]}/")
        assert hit.get("X-Formulary-Cache") == "hit", "the shared page cache is off: set REDIS_URL"
        queries = []  # a wrapper, not CaptureQueriesContext: request_started empties the latter's log

        def record(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            client.get(f"/en/entries/{slugs[0]}/")
        rows = [
            ("bare view (floor)", _timings(lambda i: client.get(BASELINE_PATH), args.calls)),
            (
                f"entry page hit, {len(slugs)} rotating",
                _timings(lambda i: client.get(f"/en/entries/{slugs[i % len(slugs)]}/"), args.calls),
            ),
            ("A–Z list hit", _timings(lambda i: client.get("/en/entries/"), args.calls)),
        ]
    floor = rows[0][1][0]
    print(f"{'what':34} {'median µs':>10} {'p95 µs':>8} {'bare / it':>10}")
    for name, (median, p95) in rows:
        print(f"{name:34} {median:10.1f} {p95:8.1f} {floor / median:10.2f}")
    print(f"SQL queries in one entry-page hit: {len(queries)}")
    for sql in queries:
        print("   ", sql[:160])


if __name__ == "__main__":
    main()
