"""Celery shims of the background exports (autodiscovered: collab.exports is an installed app)."""

from celery import shared_task

from collab.exports.build_task import build_export_task  # noqa: F401 (registers it with the workers)
from collab.exports.sweep import exports_sweep


@shared_task(name="exports.sweep")
def sweep_exports_task() -> dict[str, int]:
    return exports_sweep()
