"""Running queued jobs inside a test's transaction.

pytest-django wraps each test in a transaction that a worker process cannot see, so unit tests
run the queued jobs here: each waiting row of procrastinate's job table, oldest first, through
the registered task's own function, then marked done as a worker would. The live tests
(`tests/test_job_queue.py`) run real `manage.py procrastinate worker` processes instead.
"""

import json
from types import SimpleNamespace

from django.db import connection
from procrastinate.contrib.django import app


def queued(task_name=None):
    """[(id, task name, args)] of the jobs waiting, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, task_name, args FROM procrastinate_jobs WHERE status = 'todo' ORDER BY id")
        rows = cursor.fetchall()
    # Django has psycopg hand jsonb over as text (its JSONField decodes it).
    rows = [(i, name, json.loads(args) if isinstance(args, str) else args) for i, name, args in rows]
    return [(i, name, args) for i, name, args in rows if task_name is None or name == task_name]


def run_jobs(task_name=None, *, errors="raise"):
    """Run the waiting jobs (of `task_name` only, if given) until none is left; return how many ran.
    A job that raises fails the test, or with errors="keep" is marked failed and the run goes on."""
    ran = 0
    while jobs := queued(task_name):
        for job_id, name, args in jobs:
            task = app.tasks[name]
            with connection.cursor() as cursor:
                cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", [job_id])
            status = "succeeded"
            try:
                if task.pass_context:
                    context = SimpleNamespace(job=SimpleNamespace(id=job_id, attempts=0), app=app)
                    task.func(context, **args)
                else:
                    task.func(**args)
            except Exception:
                if errors == "raise":
                    raise
                status = "failed"
            with connection.cursor() as cursor:
                cursor.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", [status, job_id])
            ran += 1
    return ran
