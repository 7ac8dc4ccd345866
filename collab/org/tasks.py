"""Celery shims of the organisation app."""

from celery import shared_task

from collab.org.throttle import throttles_purge


@shared_task(name="org.purge_throttles")
def purge_throttles_task() -> int:
    return throttles_purge()
