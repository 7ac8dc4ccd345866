"""The archive's Celery task. Celery autodiscovers only ``reviews_app.tasks``, which imports this
module (``from reviews_app.archive_tasks import build_archive_task``) so workers register it."""

from celery import shared_task

from reviews_app.archive_builder import archive_build


@shared_task(name="reviews_app.build_archive")
def build_archive_task(archive_id: int) -> str:
    # No automatic retry: a failed build is shown on the archive page with its error and the
    # coordinator requests a new one; the row's claim makes a redelivered message a no-op.
    return archive_build(archive_id=archive_id).status
