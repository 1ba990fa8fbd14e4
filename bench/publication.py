"""How long after an approval every app server shows the new edition (run by bench/run.py).

    python -m bench.publication --servers http://127.0.0.1:8001,http://127.0.0.1:8002 --runs 5 --output pub.json

With DJANGO_SETTINGS_MODULE=bench.settings and the benchmark database in DATABASE_URL, while
the servers run. For each run it edits a live entry and submits it, reads its page on every
server until each has served (and may have cached) the current edition, then approves
through the workflow, and polls every server until the page carries the new text. The time
from the approval's commit to the first response with the new text, per server, is written
to --output with the worst of all runs.
"""

import argparse
import json
import os
import threading
import time
import urllib.error
import urllib.request

import django

POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 10.0


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # nosec B310 loopback benchmark servers
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def poll(server, path, marker, approved, seen):
    """Once `approved` is set, read the page until it carries `marker`; record the delay in `seen`."""
    approved.wait()
    while time.monotonic() - approved.at < GIVE_UP_SECONDS:
        status, body = fetch(server + path)
        if status == 200 and marker in body:
            seen[server] = time.monotonic() - approved.at
            return
        time.sleep(POLL_SECONDS)


def bench_user(name, group):
    """A staff user of the benchmark in `group` (made on first use); after django.setup()."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username=name, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=group))
    return get_user_model().objects.get(pk=user.pk)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", required=True, help="Comma-separated base URLs of the app servers.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    servers = [s.rstrip("/") for s in args.servers.split(",")]

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.urls import reverse

    from monographs import selectors, services, workflow
    from monographs.models import Entry

    editor = bench_user("bench-pub-editor", "Editors")
    reviewer = bench_user("bench-pub-reviewer", "Reviewers")
    latencies = {server: [] for server in servers}
    slugs = list(selectors.live_editions_by_name().values_list("slug", flat=True)[1 : args.runs + 1])
    for run, slug in enumerate(slugs):
        entry = Entry.objects.get(slug=slug)
        marker = f"publication-probe-{run}-{time.time_ns()}"
        section = entry.sections.order_by("position").first()
        services.section_update(
            section=section, user=editor, reason="Benchmark: publication probe", body=f"{section.body} {marker}"
        )
        submitted = workflow.submit(entry=entry, user=editor, comment="Benchmark")
        path = reverse("monographs:entry_detail", args=[slug])
        for server in servers:  # each has served the current edition, twice (so a cache holds it)
            for _ in range(2):
                status, body = fetch(server + path)
                assert status == 200 and marker not in body, (server, status)
        seen = {}
        approved = threading.Event()
        threads = [threading.Thread(target=poll, args=(server, path, marker, approved, seen)) for server in servers]
        for t in threads:
            t.start()
        # Counted from the moment the reviewer presses approve (an upper bound: the edition is
        # visible from the commit inside approve(), a few ms later).
        approved.at = time.monotonic()
        approved.set()
        workflow.approve(entry=entry, revision=submitted.revision, user=reviewer, comment="Benchmark")
        for t in threads:
            t.join()
        for server in servers:
            latencies[server].append(round(seen[server] * 1000, 1) if server in seen else None)
    worst = [v for values in latencies.values() for v in values]
    result = {
        "runs": len(slugs),
        "ms_per_server": latencies,
        "worst_ms": None if None in worst or not worst else max(worst),
        "never_seen": worst.count(None),
    }
    with open(args.output, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
