"""The job queue's tasks (procrastinate, found by its Django app as `<app>.tasks`), run by
`manage.py procrastinate worker`. Thin: each hands over to the module that owns the work.

Every task is idempotent, so a retry after a worker died mid-job (see `retry_stalled_jobs`)
does no harm: a booklet is stored once per content, a page part once per edition and template digest, a mail is sent only while its outbox row
says it is queued, a go-live only happens to an edition still waiting, a digest period once.
"""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

# Mail: a mail server down for a while is waited out (about 1, 2, 4 … 512 s between tries,
# some 17 minutes in all), then the mail is marked failed for staff to see.
MAIL_ATTEMPTS = 11
# How long a worker may miss heartbeats (every 10 s) before its jobs are taken as abandoned.
STALLED_AFTER_SECONDS = 30


@app.task(name="build_booklet", queue="booklets", retry=RetryStrategy(max_attempts=3, wait=10))
def build_booklet(drug_class, language):
    from . import booklet_store

    booklet_store.build(drug_class, language)


@app.task(name="render_edition", queue="fragments", retry=RetryStrategy(max_attempts=3, wait=10))
def render_edition(edition_id):
    """The page parts of a just-published edition (`fragments`): rendered before the first reader
    asks; a part a reader asked for first is already stored and left as it is."""
    from . import fragments

    fragments.render_edition(edition_id)


@app.task(
    name="send_mail",
    queue="mail",
    pass_context=True,
    retry=RetryStrategy(max_attempts=MAIL_ATTEMPTS, exponential_wait=2),
)
def send_mail(context, mail_id):
    from . import outbox

    outbox.send(mail_id, final_attempt=context.job.attempts + 1 >= MAIL_ATTEMPTS)


@app.periodic(cron="* * * * *", periodic_id="publish_due")
@app.task(name="publish_due", queue="schedule", queueing_lock="publish_due")
def publish_due(timestamp):
    """Scheduled go-lives and planned withdrawals, every minute: the periodic deferral is unique
    per minute in the database, so however many workers run, it runs once a minute."""
    from . import workflow

    events = workflow.publish_due()
    if events:
        logger.info("publish_due: %d scheduled changes carried out", len(events))


@app.periodic(cron="*/5 * * * *", periodic_id="overdue_alarm")
@app.task(name="overdue_alarm", queue="schedule")
def overdue_alarm(timestamp):
    """The overdue alarm: a scheduled change more than five minutes late is logged as an error
    (mailed to ADMINS in production), as `check_schedule` reports it to monitoring."""
    from . import working_copy

    overdue = working_copy.overdue_schedules()
    if overdue:
        logger.error("%d scheduled changes are overdue: %s", len(overdue), ", ".join(map(str, overdue))[:500])


# procrastinate reads cron in UTC: 00:00 UTC is 08:00 in Hong Kong, the start of the working day.
@app.periodic(cron="0 0 1-3 1,4,7,10 *", periodic_id="quarterly_digest")
@app.task(name="quarterly_digest", queue="schedule")
def quarterly_digest(timestamp):
    """The quarterly digest, queued on the first days of each quarter (later runs are no-ops)."""
    from . import digest

    digest.queue_last_quarter()


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="retry_stalled_jobs", queue="schedule", pass_context=True)
async def retry_stalled_jobs(context, timestamp):
    """Jobs of a worker that died (killed, machine lost) stay "doing" for ever; once its
    heartbeat is stale they are put back in the queue, and another worker picks them up."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        logger.warning("retrying job %s (%s) of a worker that stopped", job.id, job.task_name)
        await manager.retry_job(job)
