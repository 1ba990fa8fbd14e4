"""In-process part of the benchmark: SQL queries per page and workflow timings.

Run by `bench/run.py` once per database size, with DJANGO_SETTINGS_MODULE=bench.settings
and the benchmark database in DATABASE_URL. Writes one JSON object to --output.

    python -m bench.measure --runs 15 --long-versions 50 --versions 5 --output figures.json
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from urllib.parse import urlencode

import django

BODY_WORD = "photosensitivity"  # in the side-effect lists of some generated monographs, never in a name


def misspell(name):
    """A plausible typing error: two letters in the middle of the name swapped."""
    i = max(1, len(name) // 2 - 1)
    swapped = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return swapped if swapped.lower() != name.lower() else name[:i] + name[i + 1 :]


SEARCH_CLASSES = {
    "search_exact": "exact generic names",
    "search_brand": "brand names",
    "search_misspelling": "misspelt names",
    "search_body_word": "words in section text",
    "search_registration": "registration numbers",
    "search_chinese": "Chinese names",
}
STOPWORDS = set(
    "about above after again against before being below between could doctor during every other their there "
    "these those through under until where which while would should tablet tablets daily taken people".split()
)


def chinese_name(edition):
    """The edition's Chinese name, or (generated entries keep it there) its first Chinese synonym."""
    import re

    if edition["chinese_name"]:
        return edition["chinese_name"]
    for line in (edition["content"].get("synonyms") or "").splitlines():
        if re.search(r"[\u3400-\u9fff]", line):
            return line.strip()
    return ""


def search_queries(editions, per_class, rng):
    """`per_class` distinct queries of each class in SEARCH_CLASSES, drawn from live editions
    (dicts with generic_name, brand_names, chinese_name and content), deterministic for `rng`."""
    import re
    from collections import Counter

    editions = list(editions)
    rng.shuffle(editions)
    names = [e["generic_name"] for e in editions]
    lowered = " ".join(n.lower() for n in names)

    def distinct(values):
        seen, out = set(), []
        for v in values:
            if v and v.lower() not in seen:
                seen.add(v.lower())
                out.append(v)
            if len(out) == per_class:
                break
        return out

    brands = (b for e in editions for b in e["brand_names"] or [])
    # One registered strength of each entry, so the numbers spread over the formulary.
    strengths = ([s for p in e["content"].get("products", []) for s in p.get("strengths", [])] for e in editions)
    numbers = (rng.choice(ss).get("registration_number") for ss in strengths if ss)
    # Body words from early to late in frequency order: some found in thousands of monographs, some in a few.
    words = Counter(
        w
        for e in editions[:400]
        for section in e["content"].get("sections", [])
        for w in set(re.findall(r"[a-z]{6,}", section.get("body", "").lower()))
        if w not in STOPWORDS and w not in lowered
    )
    ranked = [w for w, _n in sorted(words.items(), key=lambda item: (-item[1], item[0]))]
    step = max(1, len(ranked) // per_class)
    return {
        "search_exact": distinct(names),
        "search_brand": distinct(brands),
        "search_misspelling": distinct(misspell(n) for n in names),
        "search_body_word": distinct(ranked[::step] + ranked),
        "search_registration": distinct(numbers),
        "search_chinese": distinct(chinese_name(e) for e in editions),
    }


def median_ms(samples):
    return round(statistics.median(samples) * 1000, 2)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15, help="Runs of each workflow operation (median taken).")
    parser.add_argument("--versions", type=int, default=5, help="History length of the ordinary generated entries.")
    parser.add_argument("--long-versions", type=int, default=50, help="History length of the long-history entries.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries-per-class", type=int, default=50, help="Distinct search queries per class.")
    parser.add_argument("--output", required=True, help="Where to write the JSON figures.")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()

    import reversion
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from reversion.models import Revision, Version

    from bench.synthetic.writer import generate
    from bench.urls import BASELINE_PATH
    from monographs import diffing, search, selectors, workflow, working_copy
    from monographs.models import Entry, State
    from monographs.snapshots import snapshot_of_revision

    rng = random.Random(args.seed)  # nosec B311
    sys.stderr.write(f"  generating {3 * args.runs} entries with {args.long_versions} versions of history\n")
    long_ids = generate(
        entries=3 * args.runs, versions=args.long_versions, seed=args.seed + 7919, progress=None
    ).entry_ids

    User = get_user_model()

    def bench_user(name, group):
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
        user.groups.add(Group.objects.get(name=group))
        return User.objects.get(pk=user.pk)  # fresh permission cache

    editor = bench_user("bench-editor", "Editors")
    reviewer = bench_user("bench-reviewer", "Reviewers")

    def typical(ids=None, versions=None, exclude=(), limit=None):
        """Published entries with 11 sections and 6 products (and `versions` versions), in random order."""
        qs = Entry.objects.filter(state__state=State.PUBLISHED).annotate(
            n_sections=Count("sections", distinct=True), n_products=Count("products", distinct=True)
        )
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        candidates = list(qs.filter(n_sections=11, n_products=6).exclude(pk__in=exclude).values_list("pk", flat=True))
        rng.shuffle(candidates)
        if versions is not None:
            candidates = candidates[: max(200, 4 * (limit or 1))]
            counts = dict(
                Version.objects.get_for_model(Entry)
                .filter(object_id__in=[str(pk) for pk in candidates])
                .values_list("object_id")
                .annotate(n=Count("pk"))
            )
            candidates = [pk for pk in candidates if counts.get(str(pk)) == versions]
        return candidates[:limit] if limit else candidates

    short_ops = typical(versions=args.versions, limit=args.runs)
    long_ops = typical(ids=long_ids, versions=args.long_versions, limit=args.runs)
    page_pk = (
        typical(versions=args.versions, exclude=short_ops, limit=1)
        or typical(exclude=short_ops, limit=1)
        or list(Entry.objects.filter(state__live_edition__isnull=False).values_list("pk", flat=True)[:1])
    )[0]
    page_entry = Entry.objects.get(pk=page_pk)
    long_page_entry = Entry.objects.get(pk=long_ops[0]) if long_ops else Entry.objects.get(pk=long_ids[0])

    letter = page_entry.generic_name[0].upper()
    paths = {
        "baseline": BASELINE_PATH,
        "entry": reverse("monographs:entry_detail", args=[page_entry.slug]),
        "entry_long_history": reverse("monographs:entry_detail", args=[long_page_entry.slug]),
        "a_z": reverse("monographs:entry_list") + "?" + urlencode({"letter": letter}),
        "search_exact": reverse("monographs:search") + "?" + urlencode({"q": page_entry.generic_name}),
        "search_misspelling": reverse("monographs:search") + "?" + urlencode({"q": misspell(page_entry.generic_name)}),
        "search_body_word": reverse("monographs:search") + "?" + urlencode({"q": BODY_WORD}),
    }
    queries_text = {
        "search_exact": page_entry.generic_name,
        "search_misspelling": misspell(page_entry.generic_name),
        "search_body_word": BODY_WORD,
    }
    rotating = list(
        Entry.objects.filter(state__live_edition__isnull=False).order_by("?").values_list("slug", flat=True)[:500]
    )

    from monographs.views import LETTERS, page_size

    query_rng = random.Random(args.seed)  # nosec B311
    live_pks = sorted(selectors.live_editions_by_name().values_list("pk", flat=True))
    sample = query_rng.sample(live_pks, min(len(live_pks), 1000))
    live = (
        selectors.live_editions_by_name()
        .filter(pk__in=sample)
        .values("generic_name", "brand_names", "chinese_name", "content")
    )
    queries = search_queries(live, args.queries_per_class, query_rng)
    search_path = reverse("monographs:search")
    search_paths = {k: [search_path + "?" + urlencode({"q": q}) for q in qs] for k, qs in queries.items()}
    # In-process time of what the search view asks for each query: the registration-number short
    # cut, or the first page of ranked results with why each matched.
    search_in_process = {}
    for key, qs in queries.items():
        samples = []
        if not qs:
            continue
        for q in qs:
            start = time.perf_counter()
            if search.registered_strength(q) is None:
                results = list(search.search(q)[: page_size()])
                search.match_fragments(q, results)
            samples.append(time.perf_counter() - start)
        search_in_process[key] = {"median_ms": median_ms(samples), "max_ms": round(max(samples) * 1000, 1)}
    # The A–Z list: every letter, every page.
    a_z_paths = []
    list_path = reverse("monographs:entry_list")
    for letter in LETTERS:
        count = selectors.live_editions_with_initial(letter).count()
        for number in range(1, max(1, -(-count // page_size())) + 1):
            a_z_paths.append(list_path + "?" + urlencode({"letter": letter, "page": number}))

    client = Client(SERVER_NAME="127.0.0.1")
    pages = {}
    for name, path in paths.items():
        cache.clear()
        timings = []
        with CaptureQueriesContext(connection) as cold:
            start = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as warm:
            start = time.perf_counter()
            client.get(path)
            timings.append(time.perf_counter() - start)
        pages[name] = {
            "path": path,
            "status": response.status_code,
            "bytes": len(response.content),
            "queries_cold": len(cold.captured_queries),
            "queries_warm": len(warm.captured_queries),
            "in_process_ms_cold": round(timings[0] * 1000, 1),
            "in_process_ms_warm": round(timings[1] * 1000, 1),
        }
    # Entry page queries on other entries, to show the count does not depend on the entry.
    entry_query_counts = set()
    for slug in rotating[:20]:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("monographs:entry_detail", args=[slug]))
        entry_query_counts.add(len(ctx.captured_queries))
    search_hits = {}
    for name, q in queries_text.items():
        results = search.search(q)
        hits = results.count() if hasattr(results, "count") and not isinstance(results, list) else len(results)
        first = [e.generic_name for e in results[:3]]
        search_hits[name] = {"query": q, "hits": hits, "top": first}

    def time_ops(entry_ids):
        out = {"save": [], "submit": [], "approve": [], "compare": []}
        for pk in entry_ids:
            entry = Entry.objects.get(pk=pk)
            revisions = list(
                Version.objects.get_for_object(entry).order_by("revision_id").values_list("revision_id", flat=True)
            )
            start = time.perf_counter()
            old = snapshot_of_revision(Revision.objects.get(pk=revisions[0]), pk)
            new = snapshot_of_revision(Revision.objects.get(pk=revisions[-1]), pk)
            diffing.compare(old, new)
            out["compare"].append(time.perf_counter() - start)

            start = time.perf_counter()
            with transaction.atomic(), reversion.create_revision():
                entry = Entry.objects.get(pk=pk)
                entry.full_clean()
                entry.save()
                section = entry.sections.order_by("position").first()
                section.body += " Reviewed for the benchmark."
                section.full_clean()
                section.save()
                reversion.set_user(editor)
                reversion.set_comment("Benchmark edit")
            out["save"].append(time.perf_counter() - start)

            start = time.perf_counter()
            workflow.submit(entry=entry, user=editor, comment="Benchmark submit")
            out["submit"].append(time.perf_counter() - start)

            start = time.perf_counter()
            workflow.approve(
                entry=entry, revision=working_copy.submitted_revision(entry), user=reviewer, comment="Benchmark approve"
            )
            out["approve"].append(time.perf_counter() - start)
        return {op: median_ms(samples) for op, samples in out.items() if samples} | {"runs": len(entry_ids)}

    sys.stderr.write(f"  timing workflow operations ({len(short_ops)} + {len(long_ops)} runs)\n")
    ops = {
        str(args.versions): time_ops(short_ops),
        str(args.long_versions): time_ops(long_ops),
    }
    result = {
        "entries": Entry.objects.count(),
        "live_entries": Entry.objects.filter(state__live_edition__isnull=False).count(),
        "versions": Version.objects.count(),
        "paths": paths,
        "pages": pages,
        "entry_query_counts_20_entries": sorted(entry_query_counts),
        "search_hits": search_hits,
        "rotating_entry_paths": [reverse("monographs:entry_detail", args=[s]) for s in rotating],
        "a_z_paths": a_z_paths,
        "search_queries": queries,
        "search_paths": search_paths,
        "search_in_process": search_in_process,
        "ops": ops,
    }
    with open(args.output, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
