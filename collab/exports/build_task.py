"""The export's Celery task. Celery autodiscovers only ``collab.exports.tasks``, which imports this
module so workers register it."""

from celery import shared_task

from collab.exports.builder import export_build


@shared_task(name="exports.build")
def build_export_task(export_id: int) -> str:
    # No automatic retry: a failed export shows its error with a "try again" button; the row's
    # claim makes a redelivered message a no-op.
    return export_build(export_id=export_id).status
