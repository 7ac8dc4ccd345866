"""Reading back texts stored rendered, before history and notifications kept message ids.

Used by the data migrations that gave AuditEntry, Notification and RequirementChange their
``*_text`` columns: an old row whose text is, word for word, a system message rendered in one
of the site's languages gets that message's id and parameters, so it too is read in each
reader's language. Anything else (person-written text, a message since reworded) keeps its
rendered text, which is still shown. Frozen with the migrations: do not edit the lists to
follow new messages; new rows store their ids from the start.
"""

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import translation

# What the system wrote into audit notes and requirement-change reasons until then.
AUDIT_NOTES = (
    "The minutes were revised.",
    "Every participating department confirmed the minutes.",
    "The item is archived and read-only.",
    "from the command line",
    "Imported from an Excel register, row %(row)s.",
    "The archive could not be built: %(error)s",
)
CHANGE_REASONS = ("Agreed in the meeting of %(date)s: %(adjustments)s",)

# Titles and bodies of notifications until then whose words identify them (not "%(a)s: %(b)s").
NOTIFICATIONS = (
    'Meeting on "%(topic)s" at %(time)s: please read the requirement form first',
    "%(form)s, %(location)s. Organised by %(organiser)s.",
    'Please confirm the minutes of "%(topic)s" (version %(version)s)',
    "Confirm them in writing for your department, or object with a reason.",
    '%(department)s objects to the minutes of "%(topic)s"',
    'Consensus reached on "%(topic)s"',
    "Every participating department confirmed the minutes. The coordinator now assigns the tasks.",
    "%(number)s %(topic)s is submitted: please schedule the consensus meeting",
    "%(person)s named you coordinator of this collaboration.",
    'The requirement of "%(topic)s" changed',
    '"%(task)s" is due tomorrow (%(deadline)s)',
    '"%(task)s" is due today',
    '"%(task)s" is late: it was due %(deadline)s',
    'Escalated: "%(task)s" of %(owner)s is late (due %(deadline)s)',
    'Please report the progress of "%(task)s"',
    'Escalated: %(owner)s has not reported on "%(task)s"',
    "%(topic)s. Now %(percent)s%% done; deadline %(deadline)s.",
    "Daily digest %(date)s: %(count)s things need you",
    'You own the task "%(task)s"',
    'You collaborate on the task "%(task)s"',
    'You receive the deliverable of the task "%(task)s"',
    'The task "%(task)s" changed',
    'Blocked: "%(task)s" (%(topic)s)',
    'Risk reported on "%(task)s" (%(topic)s)',
    'Problem resolved on "%(task)s"',
    'Please resolve a problem of "%(task)s"',
    "The archive of %(number)s %(topic)s could not be built",
    "The archive of %(number)s %(topic)s is ready",
    'Please review "%(deliverable)s" by %(due)s',
    'Please review version %(number)s of "%(deliverable)s" by %(due)s',
    '"%(deliverable)s" is accepted: please sign the acceptance form',
    'Changes requested on version %(number)s of "%(deliverable)s"',
    "Reviewed by %(person)s.",
    'The acceptance form of "%(deliverable)s" is signed by both sides',
    "%(person)s signed last; the form is locked and the task is done.",
    '%(person)s signed the acceptance form of "%(deliverable)s": please sign it too',
    "Sign with your password on the deliverable's page.",
    "Every acceptance form of %(number)s %(topic)s is signed: please record the retrospective",
    "Hold the retrospective with the parties and record it with its improvement measures.",
    "An improvement measure of %(number)s %(topic)s is yours, due %(due)s",
    'Improvement measure done: "%(measure)s"',
    "%(number)s %(topic)s is ready to archive",
    "Every acceptance form is signed and the retrospective is recorded: build the archive.",
    'Your review of "%(deliverable)s" (version %(number)s) is due at %(due)s',
    "Accept it or request changes on the deliverable's page; %(person)s waits for it.",
    'Escalated: %(receiver)s has not reviewed "%(deliverable)s" (due %(due)s)',
    "%(topic)s: version %(number)s waits for review by %(receiver)s, "
    "who was to review it within one working day.",
    "%(name)s has left the company: hand over their work on %(item)s",
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ENGLISH_DATE = re.compile(r"^([A-Z][a-z]+)\.? (\d{1,2}), (\d{4})$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("Jan", "January"),
            ("Feb", "February"),
            ("March", "Mar"),
            ("April", "Apr"),
            ("May",),
            ("June", "Jun"),
            ("July", "Jul"),
            ("Aug", "August"),
            ("Sept", "Sep", "September"),
            ("Oct", "October"),
            ("Nov", "November"),
            ("Dec", "December"),
        ],
        start=1,
    )
    for name in names
}


def _pattern(template: str) -> re.Pattern[str]:
    parts, position = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        parts.append(f"(?P<{match[1]}>.*?)" if match[1] else "%")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "$", re.S)


def _full_date(text: str) -> dict[str, str] | None:
    """A date written in the full date format of zh-hans or en, as a stored date parameter."""
    found = _CHINESE_DATE.match(text)
    if found:
        year, month, day = (int(found[1]), int(found[2]), int(found[3]))
    else:
        found = _ENGLISH_DATE.match(text)
        if not found or found[1] not in _MONTHS:
            return None
        year, month, day = int(found[3]), _MONTHS[found[1]], int(found[2])
    try:
        return {"date": date(year, month, day).isoformat(), "format": "DATE_FORMAT"}
    except ValueError:
        return None


def recogniser(msgids: Iterable[str]) -> list[tuple[str, re.Pattern[str]]]:
    """Each message id with the pattern of its rendering in each language, most specific first."""
    found = []
    for msgid in msgids:
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                rendered = translation.gettext(msgid)
            found.append((len(_PLACEHOLDER.sub("", rendered)), msgid, _pattern(rendered)))
    # More fixed text first: a specific message before a looser one that would match it too.
    found.sort(key=lambda entry: -entry[0])
    return [(msgid, pattern) for _length, msgid, pattern in found]


def recognise(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> dict[str, Any] | None:
    """The stored form (collab.audit.texts) of ``text`` if it is one of the messages, else None."""
    if not text:
        return None
    for msgid, pattern in patterns:
        found = pattern.match(text)
        if found is None:
            continue
        params: dict[str, Any] = {}
        for name, value in found.groupdict().items():
            params[name] = (_full_date(value) if name == "date" else None) or value
        return {"msgid": msgid, "params": params} if params else {"msgid": msgid}
    return None
