"""What reading the publication stamp from PostgreSQL on every public request costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/formulary_dev REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.stamp_cost [--calls 5000]

The stamp used to be one Redis GET; it is now one indexed PostgreSQL read
(`publication.publication_stamp`), so that no publication depends on a Redis write. Measured in
one run, on persistent connections (CONN_MAX_AGE as in production), against two baselines:
`SELECT 1` on the same connection (the floor of any query) and a Redis GET (what it replaced).
Prints medians and p95 in microseconds and the ratios. The database needs the migrations only.
"""

import argparse
import os
import statistics
import time


def _timings(call, calls):
    for _ in range(200):  # warm up connections and caches
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formulary.settings")
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.db import connection

    from monographs import publication, selectors

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    rows = [("SELECT 1 (floor)", _timings(select_one, args.calls))]
    rows.append(("publication_stamp() from PostgreSQL", _timings(publication.publication_stamp, args.calls)))
    slug = selectors.live_editions_by_name().values_list("slug", flat=True).first()
    if slug is not None:  # an entry page's stamp: its entry's counter, found through the address
        rows.append(("entry_stamp(slug) from PostgreSQL", _timings(lambda: publication.entry_stamp(slug), args.calls)))
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.set("bench:stamp", "1")
        rows.append(("Redis GET (the stamp before)", _timings(lambda: client.get("bench:stamp"), args.calls)))
        client.delete("bench:stamp")
    floor = rows[0][1][0]
    print(f"{'what':40} {'median µs':>10} {'p95 µs':>8} {'× SELECT 1':>11}")
    for name, (median, p95) in rows:
        print(f"{name:40} {median:10.1f} {p95:8.1f} {median / floor:11.2f}")


if __name__ == "__main__":
    main()
