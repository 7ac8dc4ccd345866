"""The hand-off table: who acts next after each step of a collaboration, written down once.

Every row is one hand-off of the template's process ("反馈及时": the next person knows at
once). It says who must act, what they must do, how urgently they are told (by the item's
scenario), which My-work list shows the entry while it is open, and when the entry goes.
Services tell people through ``tell`` (the row gives the notification's kind and urgency);
My work (``collab.dashboards.my_work_selectors``) has one list per row with an entry, and a
test plays every row. Nothing here knows the stage apps: rows are data.

The assigned-or-overdue row is told twice per measure at most: when it is assigned (the
retrospective's services) and once when it becomes overdue (``reviews_app.measure_alerts``'s
beat sweep). Its entry outlives the item (``outlives_item``): see the row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from collab.notify.models import Notification, Urgency
from collab.notify.services import Event, Render, notify_all, urgency_for_item


class Pace(StrEnum):
    """How urgently a row's notification goes out."""

    SCENARIO = "scenario"  # instant for emergencies, the daily digest for routine syncs, else normal
    PROMPT = "prompt"  # as the scenario, but never only in tomorrow's digest (a 1-day clock runs)
    BLOCKING = "blocking"  # instant when it blocks work, else as PROMPT
    INSTANT = "instant"  # at once on every channel, whatever the scenario
    NORMAL = "normal"


@dataclass(frozen=True)
class Handoff:
    kind: str  # the notification's kind; also the row's name
    event: Promise  # what just happened
    who: Promise  # who acts next
    action: Promise  # what they must do: the My-work entry's heading and button
    pace: Pace
    entry: str  # the My-work list that shows the entry while it is open
    until: Promise  # when the entry disappears
    informed: Promise | None = None  # who else is told, with nothing to do
    # My work lists nothing on an archived item, except the entries of a row that outlives it:
    # an improvement measure belongs to the company-wide improvement log, which follows it after
    # the item is archived; its entry links to the log, and marking it done writes to the log.
    outlives_item: bool = False

    def urgency(self, item: Any, *, blocking: bool = False) -> str:
        by_scenario = urgency_for_item(item)
        if self.pace == Pace.INSTANT or (self.pace == Pace.BLOCKING and blocking):
            return Urgency.INSTANT
        if self.pace == Pace.NORMAL:
            return Urgency.NORMAL
        if self.pace == Pace.SCENARIO:
            return by_scenario
        return Urgency.INSTANT if by_scenario == Urgency.INSTANT else Urgency.NORMAL


HANDOFFS: tuple[Handoff, ...] = (
    Handoff(
        "item.submitted",
        _("Requirement form submitted"),
        _("The coordinator"),
        _("Schedule the consensus meeting"),
        Pace.SCENARIO,
        "schedule_meeting",
        _("when a meeting is scheduled"),
    ),
    Handoff(
        "meeting.invited",
        _("Meeting scheduled"),
        _("Each invitee"),
        _("Read the pre-read"),
        Pace.SCENARIO,
        "pre_reads",
        _("when the pre-read is opened or the meeting starts"),
    ),
    Handoff(
        "minutes.confirmation_requested",
        _("Minutes issued"),
        _("Each participating department's head or delegate"),
        _("Confirm or object to the minutes"),
        Pace.SCENARIO,
        "confirmations",
        _("when the department confirms or objects"),
    ),
    Handoff(
        "minutes.objected",
        _("A department objected to the minutes"),
        _("The coordinator"),
        _("Revise the minutes"),
        Pace.SCENARIO,
        "revise_minutes",
        _("when a revised version of the minutes is issued"),
    ),
    Handoff(
        "item.consensus",
        _("Consensus reached"),
        _("The coordinator"),
        _("Break the work down into tasks"),
        Pace.SCENARIO,
        "breakdown",
        _("when execution starts"),
    ),
    Handoff(
        "task.assigned",
        _("Task assigned"),
        _("The task's owner"),
        _("Carry out the task"),
        Pace.SCENARIO,
        "tasks",
        _("when the task is done"),
        informed=_("The collaborators and the receiver"),
    ),
    Handoff(
        "alert.report_missing",
        _("Progress report due or missing"),
        _("The task's owner"),
        _("Report progress"),
        Pace.PROMPT,
        "reports_owed",
        _("when a progress report is filed"),
    ),
    Handoff(
        "task.problem",
        _("Risk or blocker raised"),
        _("The coordinator"),
        _("Handle the risk or blocker"),
        Pace.INSTANT,
        "risks",
        _("when it is resolved or handed on"),
    ),
    Handoff(
        "problem.assigned",
        _("Problem handed on"),
        _("The new handler"),
        _("Resolve the problem"),
        Pace.BLOCKING,
        "problems",
        _("when it is resolved"),
    ),
    Handoff(
        "deliverable.submitted",
        _("Deliverable submitted"),
        _("The receiver"),
        _("Review the deliverable within 1 working day"),
        Pace.PROMPT,
        "reviews",
        _("when it is accepted or changes are requested"),
    ),
    Handoff(
        "deliverable.changes_requested",
        _("Changes requested"),
        _("The task's owner"),
        _("Revise the deliverable"),
        Pace.PROMPT,
        "revisions",
        _("when a revised version is submitted"),
    ),
    Handoff(
        "deliverable.accepted",
        _("Deliverable accepted"),
        _("The deliverer and the receiver"),
        _("Sign the acceptance form"),
        Pace.PROMPT,
        "signatures",
        _("when they have signed"),
    ),
    Handoff(
        "item.all_signed",
        _("Every acceptance form signed"),
        _("The coordinator"),
        _("Record the retrospective"),
        Pace.SCENARIO,
        "retrospectives",
        _("when the retrospective is recorded"),
    ),
    Handoff(
        "improvement.assigned",
        _("Improvement measure assigned or overdue"),
        _("The measure's owner"),
        _("Carry out the improvement measure"),
        Pace.NORMAL,
        "measures",
        _("when it is marked done in the improvement log, also after the item is archived"),
        outlives_item=True,
    ),
    Handoff(
        "item.archive_ready",
        _("Item ready to archive"),
        _("The coordinator"),
        _("Build the archive and close the item"),
        Pace.NORMAL,
        "archives",
        _("when the item is archived"),
    ),
)

HANDOFF: dict[str, Handoff] = {row.kind: row for row in HANDOFFS}


def handoff_event(
    kind: str,
    *,
    recipients: Iterable[Any],
    render: Render,
    url: str,
    item: Any,
    dedupe: str,
    blocking: bool = False,
) -> Event:
    """The event of a hand-off, with the kind and urgency its row gives: ``tell`` one, or hand
    many to ``notify_all``."""
    row = HANDOFF[kind]
    return Event(
        recipients=list(recipients),
        kind=row.kind,
        render=render,
        url=url,
        item=item,
        dedupe=dedupe,
        urgency=row.urgency(item, blocking=blocking),
    )


def tell(
    kind: str,
    *,
    recipients: Iterable[Any],
    render: Render,
    url: str,
    item: Any,
    dedupe: str,
    blocking: bool = False,
) -> list[Notification]:
    """Tells the next person of a hand-off, with the kind and urgency its row gives."""
    return notify_all(
        [
            handoff_event(
                kind,
                recipients=recipients,
                render=render,
                url=url,
                item=item,
                dedupe=dedupe,
                blocking=blocking,
            )
        ]
    )
