"""Time the public search in-process, one request at a time (names, registration numbers and Chinese).

    DATABASE_URL=postgres://…/formulary_bench .venv/bin/python -m bench.search_timing --runs 30

Needs a database with a generated formulary (`manage.py generate_formulary --entries 2000`)
and, for the demo queries, the demo lenalidomide (`manage.py load_demo`). For each kind of
query it picks several live entries at random (fixed seed) and times the whole search page
through Django's test Client (search, page of results with their highlighted fragments,
template), and `search.search` alone; prints p50 and p95 in milliseconds and the hits.
Search throttling is switched off for the run.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from urllib.parse import urlencode

import django

from bench.measure import BODY_WORD, misspell


def percentile(samples, share):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30, help="Searches of each kind (different entries).")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formulary.settings")
    django.setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from monographs import search, selectors

    rng = random.Random(args.seed)
    editions = list(selectors.live_editions().order_by("pk"))
    if len(editions) < 10:
        sys.exit("Generate a formulary first: manage.py generate_formulary --entries 2000")
    sample = rng.sample(editions, min(args.runs, len(editions)))

    def marking_words(edition):
        for product in edition.content.get("products", []):
            for strength in product.get("strengths", []):
                words = strength.get("appearance", "").replace("'", " ").split()
                if len(words) >= 2:
                    return " ".join(words[-2:])  # e.g. "CEL 10" of "… marked 'CEL 10'"
        return None

    def registration(edition):
        numbers = [
            s["registration_number"]
            for p in edition.content.get("products", [])
            for s in p.get("strengths", [])
            if s.get("registration_number")
        ]
        return numbers[0].lower().replace("-", "") if numbers else None

    def brand_name(edition):
        return next((p["name"] for p in edition.content.get("products", []) if p.get("kind") == "brand"), None)

    cjk_run = re.compile("[\u3400-\u9fff\uf900-\ufaff]{2,}")

    def chinese_body_word(edition):
        # Two to four characters of the Chinese in the monograph text (the generator writes
        # patient advice and a disclaimer in Chinese; the bilingual issue adds body_zh).
        texts = [
            section.get(key) or ""
            for section in edition.content.get("sections", [])
            for key in ("body_zh", "body")
            if section.get("kind") != "overview"  # the overview repeats the Chinese name
        ]
        runs = [run for text in texts for run in cjk_run.findall(text)]
        if not runs:
            return None
        run = rng.choice(runs)
        size = min(len(run), rng.choice([2, 2, 3, 4]))
        start = rng.randrange(len(run) - size + 1)
        return run[start : start + size]

    def chinese_name(edition):
        # The generator writes the Chinese name as a synonym; the demo as the entry's own field.
        names = [edition.chinese_name, *edition.content.get("synonyms", "").splitlines()]
        return next((n.strip() for n in names if n.strip() and not n.strip().isascii()), None)

    kinds = {
        "exact name": [e.generic_name for e in sample],
        "brand name": [q for q in map(brand_name, sample) if q],
        "misspelling": [misspell(e.generic_name) for e in sample],
        "body word": [BODY_WORD] * len(sample),
        "registration number": [q for q in map(registration, sample) if q],
        "Chinese name": [q for q in map(chinese_name, sample) if q],
        "Chinese body word": [q for q in map(chinese_body_word, sample) if q],
        "marking words": [q for q in map(marking_words, sample) if q],
        "ATC prefix": [e.content.get("atc_code", "")[:5] for e in sample if len(e.content.get("atc_code") or "") >= 5],
        "demo: REV 10": ["REV 10"] * len(sample),
        "demo: 來那度胺": ["來那度胺"] * len(sample),
        "demo: 懷孕": ["懷孕"] * len(sample),
    }
    client = Client()
    print(f"{len(editions):,} live editions; {args.runs} queries of each kind; times in ms")
    print(f"{'query':<22} {'page p50':>9} {'page p95':>9} {'search p50':>11} {'search p95':>11}  SQL  example (hits)")
    with override_settings(FORMULARY_SEARCH_THROTTLE_RATE=None):
        for kind, queries in kinds.items():
            if not queries:
                continue
            client.get(reverse("monographs:search"), {"q": queries[0]})  # warm up
            page_times, search_times = [], []
            for query in queries:
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(reverse("monographs:search") + "?" + urlencode({"q": query}))
                page_times.append(time.perf_counter() - started)
                assert response.status_code in (200, 302), (query, response.status_code)
                started = time.perf_counter()
                hits = search.search(query)
                search_times.append(time.perf_counter() - started)
            ms = [
                round(1000 * f(t), 1)
                for t in (page_times, search_times)
                for f in (statistics.median, lambda t: percentile(t, 0.95))
            ]
            print(
                f"{kind:<22} {ms[0]:>9} {ms[1]:>9} {ms[2]:>11} {ms[3]:>11}  {len(captured.captured_queries):>3}  "
                f"{queries[-1]!r} ({len(hits)}{'+, capped' if getattr(hits, 'capped', False) else ''}; "
                f"{'redirect' if response.status_code == 302 else 'page'})"
            )


if __name__ == "__main__":
    main()
