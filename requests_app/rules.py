"""The template's rules for a requirement, with messages in the reader's language.

collab.lib.wording finds the vague phrases; this module says what is wrong and how to fix it.
Forms call it for field messages and services call it again before a submission, so no path
around the form can file a vague requirement.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from collab.lib.wording import VagueKind, find_vague, has_measurable_criterion


def _advice(kind: VagueKind) -> str:
    return {
        VagueKind.TIME: _('write a date or a time limit instead, e.g. "before 2026-10-05".'),
        VagueKind.DEGREE: _('write a standard that can be checked, e.g. "test coverage ≥ 95%".'),
        VagueKind.ESTIMATE: _('write an exact figure or a range with both ends, e.g. "3 to 5 days".'),
        VagueKind.UNDECIDED: _("decide it before submitting, or list it as an open question in the scope."),
        VagueKind.HEDGE: _(
            'say what will be done, by whom and by when, e.g. "QA finishes the test by 2026-10-05".'
        ),
        VagueKind.OPEN_LIST: _(
            "list every item in full, or write what is out of scope: an open list cannot be closed."
        ),
        VagueKind.PLACEHOLDER: _("this is the template's blank: replace it with the real content."),
    }[kind]


def vague_wording_errors(text: str) -> list[str]:
    """One message per vague phrase in ``text``, naming the phrase and how to fix it."""
    return [
        _('"%(phrase)s" is vague: %(advice)s') % {"phrase": m.phrase, "advice": _advice(m.kind)}
        for m in find_vague(text)
    ]


def clip(text: str, length: int = 30) -> str:
    """A long sentence named in a message, cut to what identifies it."""
    text = text.strip()
    return text if len(text) <= length else text[:length] + "…"


def measurable_criterion_error(text: str) -> str | None:
    if not text.strip() or has_measurable_criterion(text):
        return None
    return _(
        "The expected outcome needs a measurable criterion: a number, a percentage, a date or a "
        'threshold (≥/≤), e.g. "user needs covered: 90%".'
    )


@dataclass
class ParticipationData:
    department_id: int
    role: str
    core_need: str


@dataclass
class MilestoneData:
    name: str
    due_date: date


@dataclass
class RequirementData:
    """The content of a requirement form, as a form or an import hands it to the services."""

    topic: str
    scenario: str
    goal: str
    scope: str
    expected_outcome: str
    requesting_department_id: int
    coordinator_id: int
    remarks: str = ""
    participations: list[ParticipationData] = field(default_factory=list)
    milestones: list[MilestoneData] = field(default_factory=list)


def requirement_problems(data: RequirementData) -> dict[str, list[str]]:
    """What stops ``data`` from being submitted, by field name ("__all__" for the whole form)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, messages: Iterable[str]) -> None:
        messages = list(messages)
        if messages:
            problems.setdefault(name, []).extend(messages)

    for name in ("goal", "scope", "expected_outcome"):
        if not getattr(data, name).strip():
            add(name, [_("This field is required before submitting.")])
    add("goal", vague_wording_errors(data.goal))
    add("scope", vague_wording_errors(data.scope))
    add("expected_outcome", vague_wording_errors(data.expected_outcome))
    criterion = measurable_criterion_error(data.expected_outcome)
    add("expected_outcome", [criterion] if criterion else [])
    if not data.participations:
        add("participations", [_("Name at least one participating department and its core need.")])
    if not data.milestones:
        add("milestones", [_("Set at least one preliminary milestone with a date.")])
    for participation in data.participations:
        add(
            "participations",
            [
                _('Core need "%(need)s": %(message)s')
                % {"need": clip(participation.core_need), "message": msg}
                for msg in vague_wording_errors(participation.core_need)
            ],
        )
    for milestone in data.milestones:
        add(
            "milestones",
            [
                _('Milestone "%(name)s": %(message)s') % {"name": milestone.name, "message": msg}
                for msg in vague_wording_errors(milestone.name)
            ],
        )
    return problems
