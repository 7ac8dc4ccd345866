from celery import shared_task

from tasks_app.alerts import sweep_alerts
from tasks_app.digest import send_digests


@shared_task(name="tasks_app.sweep_alerts")
def sweep_alerts_task() -> int:
    return sweep_alerts()


@shared_task(name="tasks_app.send_digests")
def send_digests_task() -> int:
    return send_digests()
