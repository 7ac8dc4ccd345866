"""Every page of a played item, found by walking the URL resolver (not a hand-kept list), so a
page added tomorrow is checked the day it is added.

Used by the layout and language tests: they open each page as each role of the item.
"""

import re
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from collab.testing import Org, client_for
from requests_app.models import CollaborationItem

# Whole areas that are not pages of an item: Django's admin and auth, the language switch.
SKIPPED_PREFIXES = ("admin/", "accounts/", "language/")
# Files, not pages: their own tests read them (rendering each PDF for every role cost the walks
# more than all the pages together).
FILE_SUFFIXES = (".pdf", ".xlsx", ".zip")
_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, route)
        elif (
            isinstance(entry, URLPattern)
            and not route.startswith(SKIPPED_PREFIXES)
            and not route.endswith(FILE_SUFFIXES)
        ):
            found.append(route)
    return found


def played_item(org: Org) -> CollaborationItem:
    """The template's example played to the archive's door (every deliverable signed, the
    retrospective recorded), with a risk reported on a task and left open, so the pages that
    show open problems and their hand-over are part of the walk, and a register export."""
    from reviews_app.tests.test_archive_support import attach, deliver_everything, record_retro, started_item
    from tasks_app.tracking_services import ReportData, progress_report

    item = started_item(org)
    task = item.tasks.order_by("pk").first()
    assert task is not None
    # Reported while the task is open: a task both sides signed takes no more reports.
    report = ReportData("in_progress", 90, "收尾中", risks="评审人请假", measures="10月9日前由组长评审")
    progress_report(actor=task.owner, task_id=task.pk, data=report)
    attach(org, item)
    deliver_everything(org, item)
    record_retro(org, item)
    # The register exported in the background by the requester: the export's page is part of
    # the walk (written by the eager worker where the walk commits, still waiting where not).
    from collab.exports.services import export_request

    export_request(actor=org.requester, kind="register", query="", file_name="沟通记录表.xlsx")
    item.refresh_from_db()
    return item


def played_ids(item: CollaborationItem) -> dict[str, Any]:
    """The first object of each kind the item's URLs name, by the URL parameter's name."""
    from collab.exports.models import Export
    from reviews_app.models import Deliverable, DeliverableFile, ImprovementMeasure

    candidates: dict[str, Any] = {
        "pk": item.pk,
        "name": "tasks",  # the boards' full lists (dashboard/…/list/<name>/)
        "export_pk": Export.objects.order_by("pk").values_list("pk", flat=True).first(),
        "task_pk": item.tasks.order_by("pk").values_list("pk", flat=True).first(),
        "meeting_pk": item.meetings.order_by("pk").values_list("pk", flat=True).first(),
        "milestone_pk": item.milestones.order_by("pk").values_list("pk", flat=True).first(),
        "attachment_pk": item.attachments.order_by("pk").values_list("pk", flat=True).first(),
        "problem_pk": item.problems.order_by("pk").values_list("pk", flat=True).first(),
        "deliverable_pk": Deliverable.objects.filter(task__item=item)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
        "file_pk": DeliverableFile.objects.filter(version__deliverable__task__item=item)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
        "measure_pk": ImprovementMeasure.objects.filter(retrospective__item=item)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
    }
    return {name: value for name, value in candidates.items() if value is not None}


def page_urls(item: CollaborationItem) -> list[str]:
    """Every route the resolver knows, filled with the played item's ids; routes naming
    something the item does not have are left out."""
    ids = played_ids(item)
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if route.startswith("^") or "(?P" in route:
            continue  # a regex route (static files): not a page
        names = [m.group("name") for m in _PARAMETER.finditer(route)]
        if all(name in ids for name in names):
            urls.append("/" + _PARAMETER.sub(lambda m: str(ids[m.group("name")]), route))
    return sorted(set(urls))


def html_pages(client: Client, urls: list[str], headers: dict[str, str] | None = None) -> dict[str, str]:
    """The URLs that answer ``client`` with an HTML page (not a download, a redirect or a
    refusal), each with the page's text."""
    pages = {}
    for url in urls:
        response = client.get(url, headers=headers or {})
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages[url] = response.content.decode()
    return pages


def role_clients(org: Org) -> dict[str, Client]:
    """The item's roles: who files, coordinates, does, helps, receives, and a department head."""
    return {
        name: client_for(getattr(org, name))
        for name in ("requester", "coordinator", "owner", "collaborator", "receiver", "qa_head")
    }
