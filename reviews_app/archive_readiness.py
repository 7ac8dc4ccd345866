"""When an item may be archived (the readiness rule) and which archive is being built.

An item is ready to archive when it is in execution, every one of its tasks has at least one
deliverable signed by both sides, no deliverable is still in review, waiting for changes or for a
signature, no risk or blocker of its issue-tracking list (问题跟踪表) is still open, and the
retrospective is recorded. Archiving closes the item for good, so it checks the whole item.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.models import Archive, ArchiveStatus, Deliverable, DeliverableStatus, Retrospective
from tasks_app.models import Problem, ProblemStatus, Task

# A queued or building archive older than this was lost (a worker killed mid-build): a new
# request marks it failed instead of waiting for it forever.
ARCHIVE_STALE_AFTER = timedelta(hours=1)

ACTIVE_STATUSES = (ArchiveStatus.QUEUED, ArchiveStatus.BUILDING)


def _status_label(deliverable: Deliverable) -> str:
    return str(DeliverableStatus(deliverable.status).label)


def archive_problems(item: CollaborationItem) -> list[str]:
    """What stops ``item`` from being archived, in words; empty when it is ready.

    "Every deliverable accepted" means: each task has at least one deliverable that the receiver
    accepted and both sides signed, and no deliverable of the item is still in review, waiting
    for changes or waiting for a signature.
    """
    if item.status == ItemStatus.CLOSED:
        return [_("This item is already archived.")]
    if item.status != ItemStatus.EXECUTING:
        return [
            _("The item is not in execution: it is archived after its tasks were carried out and delivered.")
        ]
    problems: list[str] = []
    tasks = list(Task.objects.filter(item=item).prefetch_related("deliverables").order_by("deadline", "pk"))
    if not tasks:
        problems.append(_("The item has no tasks, so nothing was delivered."))
    for task in tasks:
        deliverables = sorted(task.deliverables.all(), key=lambda d: d.pk)
        if not any(d.status == DeliverableStatus.SIGNED for d in deliverables):
            problems.append(
                _('Task "%(task)s" has no deliverable accepted and signed by both sides yet.')
                % {"task": task.name}
            )
        for deliverable in deliverables:
            if deliverable.status != DeliverableStatus.SIGNED:
                problems.append(
                    _(
                        'Deliverable "%(deliverable)s" of task "%(task)s" is "%(status)s": it must be '
                        "accepted and signed by both sides."
                    )
                    % {
                        "deliverable": deliverable.name,
                        "task": task.name,
                        "status": _status_label(deliverable),
                    }
                )
    for problem in Problem.objects.filter(item=item, status=ProblemStatus.OPEN).select_related("task"):
        values = {"problem": problem.description, "task": problem.task.name}
        if problem.blocking:
            message = _('The blocker "%(problem)s" of task "%(task)s" is still open.') % values
        else:
            message = _('The risk "%(problem)s" of task "%(task)s" is still open.') % values
        problems.append(
            message
            + " "
            + _("Its handler resolves it, or the coordinator closes it with a reason, on the progress page.")
        )
    if not Retrospective.objects.filter(item=item).exists():
        problems.append(_("The retrospective is not recorded yet."))
    return problems


def active_archive(item: CollaborationItem) -> Archive | None:
    """The archive being built for ``item`` (queued or building, not stale), if any."""
    since = timezone.now() - ARCHIVE_STALE_AFTER
    return (
        Archive.objects.filter(item=item, status__in=ACTIVE_STATUSES, requested_at__gte=since)
        .order_by("-requested_at", "-pk")
        .first()
    )
