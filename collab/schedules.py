"""Every Celery beat entry of Collab, crontab-only, each with a one-line why.

Kept in code because django-celery-beat does not support Django 6.1 yet. Each entry polls due
rows and claims them with a conditional UPDATE, so a duplicated beat or a restarted worker sends
nothing twice.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Retries after back-off, rate-limited robot posts and claims of crashed workers come due by the minute.
    "notify-sweep-deliveries": {"task": "notify.sweep_deliveries", "schedule": crontab()},
    # Deadline warnings, stale-report reminders and escalations are due to the minute; 5 is close enough.
    "tasks-sweep-alerts": {"task": "tasks_app.sweep_alerts", "schedule": crontab(minute="*/5")},
    # Review reminders (2 working hours before) and overdue reviews are due to the minute; 5 is close enough.
    "reviews-sweep-reviews": {"task": "reviews_app.sweep_reviews", "schedule": crontab(minute="*/5")},
    # A measure is overdue from its owner's first working hour after the due day; hourly is close enough.
    "reviews-sweep-overdue-measures": {
        "task": "reviews_app.sweep_overdue_measures",
        "schedule": crontab(minute=20),
    },
    # An archive whose build message (broker down) or worker (killed) was lost is built again soon.
    "reviews-requeue-archives": {"task": "reviews_app.requeue_archives", "schedule": crontab(minute="*/2")},
    # An export whose message or worker was lost is written again soon; files past their time go.
    "exports-sweep": {"task": "exports.sweep", "schedule": crontab(minute="*/2")},
    # Coordinators and department heads read their digest at the start of their working day, in
    # their region's time zone: hourly, each person's goes out once inside their working hours.
    "tasks-daily-digest": {"task": "tasks_app.send_digests", "schedule": crontab(minute=15)},
    # Counts of failed passwords whose window is over count nothing; hourly keeps the table small.
    "org-purge-throttles": {"task": "org.purge_throttles", "schedule": crontab(minute=40)},
    # The company directory changes during the day; syncing at night keeps people and heads current.
    "movein-sync-directories": {"task": "movein.sync_directories", "schedule": crontab(hour=2, minute=30)},
}
