"""Celery shims around the outbox. Failures are recorded on the delivery rows and retried by the
sweep with back-off, so the tasks themselves do not retry: a task that dies (a lost broker
message, a crashed worker, a locked database) leaves rows that the next sweep picks up."""

from celery import shared_task

from collab.notify.delivery import deliveries_sweep, delivery_attempt


@shared_task(name="notify.deliver")
def deliver(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        delivery_attempt(delivery_id=delivery_id)


@shared_task(name="notify.sweep_deliveries")
def sweep_deliveries() -> None:
    deliveries_sweep()
