from celery import shared_task

from reviews_app.archive_sweep import archives_requeue
from reviews_app.archive_tasks import build_archive_task  # noqa: F401 (registers it with the workers)
from reviews_app.measure_alerts import sweep_overdue_measures
from reviews_app.review_alerts import sweep_reviews


@shared_task(name="reviews_app.sweep_reviews")
def sweep_reviews_task() -> int:
    return sweep_reviews()


@shared_task(name="reviews_app.requeue_archives")
def requeue_archives_task() -> dict[str, int]:
    return archives_requeue()


@shared_task(name="reviews_app.sweep_overdue_measures")
def sweep_overdue_measures_task() -> int:
    return sweep_overdue_measures()
