from datetime import datetime

from celery import shared_task
from django.utils import timezone

from collab.queueing import enqueue
from tasks_app.alerts import sweep_alerts, sweep_parts
from tasks_app.digest import send_digests


@shared_task(name="tasks_app.sweep_alerts")
def sweep_alerts_task() -> int:
    """The beat's sweep. On PostgreSQL it shares the wave with ``sweep_parts() - 1`` more sweeps
    (``sweep_alerts_part_task``, taken by the other worker processes at once), each over its
    own items: a morning's 60,000 warnings go out on both cores. It sweeps the first part
    itself; when the broker does not take a part, it sweeps that part too, after its own."""
    parts = sweep_parts()
    if parts == 1:
        return sweep_alerts()
    now = timezone.now()
    instead = "this sweep sends that part after its own."
    left = [
        part
        for part in range(1, parts)
        if not enqueue(sweep_alerts_part_task, now.isoformat(), part, parts, instead=instead)
    ]
    sent = sweep_alerts(now=now, part=(0, parts))
    for part in left:
        sent += sweep_alerts(now=now, part=(part, parts))
    return sent


@shared_task(name="tasks_app.sweep_alerts_part")
def sweep_alerts_part_task(now: str, part: int, parts: int) -> int:
    """One part of the beat's sweep (see ``sweep_alerts_task``): the warnings due at ``now`` of
    the items whose id is ``part`` modulo ``parts``."""
    return sweep_alerts(now=datetime.fromisoformat(now), part=(part, parts))


@shared_task(name="tasks_app.send_digests")
def send_digests_task() -> int:
    return send_digests()
