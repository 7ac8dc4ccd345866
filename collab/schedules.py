"""Every Celery beat entry of Collab, crontab-only, each with a one-line why.

Kept in code because django-celery-beat does not support Django 6.1 yet. Deadline warnings and
stale-task escalations land here with the tracking stage.
"""

BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
