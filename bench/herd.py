"""The thundering herd: how slow are the requests started in the second after an approval?

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... \\
        .venv/bin/python -m bench.herd --server http://127.0.0.1:8001 [--connections 8] [--seconds 12]

While the app servers run (with the shared page cache on), an asyncio client keeps
--connections requests in flight over the entry pages of --entries live entries (rotating) and
the A–Z list, recording each request's start time and latency (wrk cannot). After
--approve-after seconds it approves a prepared edit of one entry through the workflow, as a
reviewer would. It prints the p99 of the requests started in the steady state before the
approval and of those started in the second after its commit, their ratio, and the hit ratio
of each window (X-Formulary-Cache). A publication that empties the whole page cache makes
every request of that second a miss; one that invalidates only what changed does not.
"""

import argparse
import asyncio
import os
import statistics
import threading
import time
import urllib.request

import aiohttp
import django


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan")


async def load(server, paths, connections, seconds, records):
    started_at = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker(offset):
            index = offset
            while time.monotonic() - started_at < seconds:
                path = paths[index % len(paths)]
                index += connections
                begin = time.monotonic()
                async with session.get(server + path) as response:
                    await response.read()
                    records.append((begin, time.monotonic() - begin, response.headers.get("X-Formulary-Cache")))

        await asyncio.gather(*(worker(i) for i in range(connections)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--approve-after", type=float, default=6.0)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.urls import reverse
    from django.utils import translation

    from bench.publication import bench_user
    from monographs import selectors, services, workflow
    from monographs.models import Entry

    editor = bench_user("bench-herd-editor", "Editors")
    reviewer = bench_user("bench-herd-reviewer", "Reviewers")
    slugs = list(selectors.live_editions_by_name().values_list("slug", flat=True)[: args.entries])
    with translation.override("en"):
        paths = [reverse("monographs:entry_detail", args=[slug]) for slug in slugs]
        paths.append(reverse("monographs:entry_list"))
    # The entry to approve: edited and submitted before the load starts.
    entry = Entry.objects.get(slug=slugs[len(slugs) // 2])
    section = entry.sections.order_by("position").first()
    services.section_update(section=section, user=editor, reason="Benchmark: herd", body=f"{section.body} herd")
    submitted = workflow.submit(entry=entry, user=editor, comment="Benchmark")

    approved = {}

    def approve_later():
        time.sleep(args.approve_after)
        workflow.approve(entry=entry, revision=submitted.revision, user=reviewer, comment="Benchmark")
        approved["at"] = time.monotonic()  # just after the commit

    for path in paths:  # warm: every page in the shared cache before the clock starts
        urllib.request.urlopen(args.server.rstrip("/") + path, timeout=60).read()  # nosec B310 loopback
    records = []
    approver = threading.Thread(target=approve_later)
    approver.start()
    asyncio.run(load(args.server.rstrip("/"), paths, args.connections, args.seconds, records))
    approver.join()
    at = approved["at"]
    first = records[0][0] if records else at
    steady = [r for r in records if first + 1.0 <= r[0] < at - 0.5]  # warmed up, before the approval
    after = [r for r in records if at <= r[0] < at + 1.0]

    def describe(name, window):
        latencies = [r[1] * 1000 for r in window]
        hits = sum(1 for r in window if r[2] == "hit")
        print(
            f"{name:28} {len(window):6} req  median {statistics.median(latencies):7.1f} ms  "
            f"p99 {p99(latencies):7.1f} ms  hits {hits / max(len(window), 1):5.1%}"
        )
        return p99(latencies)

    steady_p99 = describe("steady state", steady)
    after_p99 = describe("second after the approval", after)
    print(f"p99 after / steady: {after_p99 / steady_p99:.2f}")


if __name__ == "__main__":
    main()
