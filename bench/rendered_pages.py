"""An uncached entry page before and after its parts were stored at publication, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/formulary_bench DJANGO_SETTINGS_MODULE=bench.settings \\
        DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1,testserver FORMULARY_SITE_URL=http://127.0.0.1 \\
        .venv/bin/python -m bench.rendered_pages --baseline /tmp/base-checkout [--requests 200] [--rounds 2]

In-process (Django's test Client, no shared page cache, no HTTP server), on a generated
formulary (`manage.py generate_formulary --entries 500`, migrated to this checkout). Each round
starts a fresh process in the baseline checkout (an extracted older commit, same database) and
one in this checkout, alternately; each times `--requests` entry pages in each language,
rotating over different entries (each asked once per pass), twice: the first pass is what a
fresh worker pays (the baseline renders every page; its per-process part cache is empty), the
second what a warm one pays (the baseline's part cache then holds each monograph). This
checkout's process first runs `render_editions` (what the publication's job and the deployment
do), so its pages read stored parts. Prints medians, p95 and queries per page, and the ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run with the checkout as the working directory, so `python -c` imports that checkout's code.
CHILD = r"""
import json, statistics, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from monographs import selectors

requests, stored = int(sys.argv[1]), sys.argv[2] == "stored"
if stored:
    call_command("render_editions", stdout=open("/dev/null", "w"))
slugs = sorted(selectors.live_editions().values_list("slug", flat=True))
warm, timed = slugs[-20:], slugs[:requests]
client = Client()
for slug in warm:  # templates compiled, connections open, in both languages
    for language in ("en", "zh-hant"):
        assert client.get(f"/{language}/entries/{slug}/").status_code == 200
result = {}
for language in ("en", "zh-hant"):
    for label in ("first", "second"):
        samples, queries = [], []
        for slug in timed:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(f"/{language}/entries/{slug}/")
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (slug, response.status_code)
            queries.append(len(captured))
        samples.sort()
        result[f"{language} {label}"] = {
            "median_ms": statistics.median(samples),
            "p95_ms": samples[int(len(samples) * 0.95) - 1],
            "queries": statistics.median(queries),
            "bytes": len(response.content),
        }
print(json.dumps(result))
"""


def measure(checkout, requests, stored):
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(requests), "stored" if stored else "rendered"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="A checkout of the commit before (same database).")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if os.environ.get("REDIS_URL") or os.environ.get("PAGE_CACHE_REDIS_URL"):
        sys.exit("Unset REDIS_URL and PAGE_CACHE_REDIS_URL: this measures pages without the shared cache.")
    runs = {"before": [], "after": []}
    for _round in range(args.rounds):
        runs["before"].append(measure(Path(args.baseline), args.requests, stored=False))
        runs["after"].append(measure(ROOT, args.requests, stored=True))
    print(
        f"{'entry page':22} {'before ms':>10} {'after ms':>9} {'× faster':>9} {'p95 before':>11} {'p95 after':>10} "
        f"{'queries':>9}"
    )
    for key in runs["before"][0]:
        before = statistics.median(run[key]["median_ms"] for run in runs["before"])
        after = statistics.median(run[key]["median_ms"] for run in runs["after"])
        p95_before = statistics.median(run[key]["p95_ms"] for run in runs["before"])
        p95_after = statistics.median(run[key]["p95_ms"] for run in runs["after"])
        queries = f"{runs['before'][0][key]['queries']:g} → {runs['after'][0][key]['queries']:g}"
        print(
            f"{key:22} {before:10.2f} {after:9.2f} {before / after:9.1f} {p95_before:11.2f} {p95_after:10.2f} "
            f"{queries:>9}"
        )
    print("rounds:", json.dumps(runs))


if __name__ == "__main__":
    main()
