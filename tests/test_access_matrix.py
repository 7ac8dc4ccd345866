"""Who may open what: every URL pattern of the project, from the resolver, for seven people.

The URL arguments come from one played item (requirement, meeting and minutes, tasks, a problem,
deliverables signed, a retrospective, an archive). Each URL is requested with the method its
view answers (GET, or POST with nothing posted when the view only takes POST) and the answer is
classed: L (sent to the login page), N (404: the item does not exist for them), F (403: they see
it but the action is not theirs), A (allowed: the page, a redirect after a message, or a form
error). A pattern missing from EXPECTED fails the test, so a new view cannot escape the matrix.
The admin site has its own staff permissions and is left to Django.
"""

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from collab.exports.models import Export
from collab.testing import Org, client_for, make_person
from reviews_app.models import Archive, Deliverable, DeliverableFile, ImprovementMeasure
from reviews_app.tests.test_archive_support import attach, ready_item
from tasks_app.models import DepartmentExemption, Problem, Task

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "participant", "task owner", "coordinator", "department head", "admin")

# The answer per role, in ROLES' order. Item pages: outsiders 404, everyone who takes part reads;
# actions belong to the people the access rules name (requests_app/tasks_app/reviews_app access).
EXPECTED: dict[str, str] = {
    "home": "LAAAAAA",
    "login": "AAAAAAA",
    "logout": "LLLLLLL",  # logging out leads to the login page, for everyone
    "password_change": "LAAAAAA",
    "password_change_done": "LAAAAAA",
    "password_reset": "AAAAAAA",
    "password_reset_done": "AAAAAAA",
    "password_reset_confirm": "AAAAAAA",
    "password_reset_complete": "AAAAAAA",
    "language_switch": "AAAAAAA",
    "notify:list": "LAAAAAA",
    "notify:open": "LNNNANN",  # the coordinator's own; someone else's does not exist for them
    "notify:read_all": "LAAAAAA",
    "notify:preferences": "LAAAAAA",
    "requests_app:register": "LAAAAAA",
    "requests_app:register_export": "LAAAAAA",
    "requests_app:item_create": "LAAAAAA",
    "requests_app:item_draft_keep": "LAAAAAA",  # each person's own unsent input
    "requests_app:item_draft_discard": "LAAAAAA",
    "requests_app:check_wording": "LAAAAAA",
    "requests_app:item_detail": "LNAAAAA",
    "requests_app:item_edit": "LNFFAFA",
    "requests_app:item_edit_draft_keep": "LNFFAFA",
    "requests_app:item_edit_draft_discard": "LNFFAFA",
    "requests_app:item_submit": "LNFFAFA",
    "requests_app:item_print": "LNAAAAA",
    "requests_app:attachment_upload": "LNFFAFA",
    "requests_app:attachment_download": "LNAAAAA",
    "requests_app:attachment_delete": "LNFFAFA",
    "requests_app:meeting_create": "LNFFAFA",
    "requests_app:meeting_detail": "LNAAAAA",
    "requests_app:meeting_pre_read": "LNAAAAA",
    "requests_app:minutes_edit": "LNFFAFA",
    "requests_app:minutes_confirm": "LNAAAAA",
    "requests_app:minutes_print": "LNAAAAA",
    "requests_app:minutes_export": "LNAAAAA",
    "tasks_app:task_sheet": "LNAAAAA",
    "tasks_app:task_sheet_print": "LNAAAAA",
    "tasks_app:task_sheet_export": "LNAAAAA",
    "tasks_app:task_create": "LNFFAFA",
    "tasks_app:task_edit": "LNFFAFA",
    "tasks_app:start_execution": "LNFFAFA",
    "tasks_app:todo_drop": "LNFFAFA",
    "tasks_app:department_exempt": "LNFFAFA",
    "tasks_app:exemption_remove": "LNFFAFA",
    "tasks_app:check_task_field": "LAAAAAA",
    "tasks_app:progress": "LNAAAAA",
    "tasks_app:set_cadence": "LNFFAFA",
    "tasks_app:progress_print": "LNAAAAA",
    "tasks_app:progress_export": "LNAAAAA",
    "tasks_app:milestone_report": "LNAAAAA",
    "tasks_app:task_detail": "LNAAAAA",
    "tasks_app:task_report": "LNFAAFF",
    "tasks_app:problem_resolve": "LNFFAFA",
    "tasks_app:problem_assign": "LNFFAFA",
    "reviews_app:task_deliverables": "LNAAAAA",
    "reviews_app:deliverable_create": "LNFAFFF",
    "reviews_app:deliverable_detail": "LNAAAAA",
    "reviews_app:deliverable_review": "LNFFFFF",
    "reviews_app:deliverable_revise": "LNFAFFF",
    "reviews_app:deliverable_sign": "LNFAFFF",
    "reviews_app:deliverable_file": "LNAAAAA",
    "reviews_app:acceptance_print": "LNAAAAA",
    "reviews_app:acceptance_pdf": "LNAAAAA",
    "reviews_app:retrospective": "LNAAAAA",
    "reviews_app:retrospective_record": "LNFFAFF",
    "reviews_app:retrospective_edit": "LNFFAFF",
    "reviews_app:measure_add": "LNFFAFF",
    "reviews_app:retrospective_print": "LNAAAAA",
    "reviews_app:retrospective_pdf": "LNAAAAA",
    "reviews_app:retrospective_export": "LNAAAAA",
    "reviews_app:improvement_log": "LAAAAAA",
    "reviews_app:measure_done": "LNFFAAF",
    "reviews_app:archive": "LNAAAAA",
    "reviews_app:archive_build": "LNFFAFF",
    "reviews_app:archive_status": "LNAAAAA",
    "reviews_app:archive_download": "LNAAAAA",
    # A background export is its requester's alone (the coordinator's here): nobody else's.
    "exports:export": "LNNNANN",
    "exports:status": "LNNNANN",
    "exports:download": "LNNNANN",
    "exports:again": "LNNNANN",
    "dashboards:my_work": "LAAAAAA",
    "dashboards:my_work_list": "LAAAAAA",
    "dashboards:index": "LAAAAAA",
    "dashboards:nav_link": "LAAAAAA",
    "dashboards:coordinator": "LAAAAAA",
    "dashboards:department": "LFFFFAA",
    "dashboards:management": "LFFFFFA",
    "dashboards:management_export": "LFFFFFA",
    "dashboards:figure_rows": "LFFFFFA",
    "dashboards:figure_rows_export": "LFFFFFA",
    "dashboards:timeline": "LNAAAAA",
    "dashboards:coordinator_items": "LNNNANN",  # one's own coordinated items only
    "dashboards:coordinator_list": "LAAAAAA",  # each person's own coordinated items (none: empty)
    "dashboards:department_list": "LFFFFAA",
    "dashboards:department_items": "LFFFFAA",
    "movein:register_import": "LFFFFFA",  # staff
    "signin_start": "NNNNNNN",  # no single sign-on provider is set up here
    "signin_callback": "NNNNNNN",
    "signing_pin": "LAAAAAA",
    "picker_people": "LAAAAAA",
    "picker_departments": "LAAAAAA",
}


def patterns(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, URLPattern]]:
    """Every named URL pattern with its namespaced name, the admin site left out."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += patterns(entry, inner)
        elif entry.name:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def played(org: Org) -> dict[str, Any]:
    """An item played to the end of execution, and the id of one of each of its parts."""
    item = ready_item(org)
    attachment = attach(org, item)
    plan = Task.objects.get(item=item, owner=org.owner)
    # Its tasks are signed and done, so no report can raise a problem now: one from earlier.
    Problem.objects.create(
        item=item, task=plan, description="环境不稳定", raised_by=org.owner, owner=org.coordinator
    )
    deliverable = Deliverable.objects.filter(task=plan).first()
    meeting = item.meetings.first()
    notification = org.coordinator.notifications.first()
    assert deliverable is not None and meeting is not None and notification is not None
    return {
        "pk": item.pk,
        "meeting_pk": meeting.pk,
        "attachment_pk": attachment.pk,
        "task_pk": plan.pk,
        "todo_pk": plan.source_todo_id,
        "exemption_pk": DepartmentExemption.objects.create(
            item=item, department=org.finance, reason="不涉及", decided_by=org.coordinator
        ).pk,
        "milestone_pk": item.milestones.first().pk,
        "problem_pk": Problem.objects.get(task=plan).pk,
        "deliverable_pk": deliverable.pk,
        "file_pk": DeliverableFile.objects.filter(version__deliverable=deliverable).first().pk,
        "measure_pk": ImprovementMeasure.objects.get(owner=org.qa_head).pk,
        "archive_pk": Archive.objects.create(
            item=item,
            status="ready",
            requested_by=org.coordinator,
            file=ContentFile(b"PK\x05\x06" + bytes(18), name="archive.zip"),
            file_name="协作流程.zip",
        ).pk,
        "export_pk": Export.objects.create(
            kind="register",
            status="ready",
            requested_by=org.coordinator,
            language="zh-hans",
            zone="Asia/Shanghai",
            file=ContentFile(b"PK\x05\x06" + bytes(18), name="export.xlsx"),
            file_name="沟通记录表.xlsx",
        ).pk,
        "figure": "items",
        "entry": "tasks",
        "name": "tasks",
        "stage": "executing",
        "uidb64": "MQ",
        "token": "set-password",
    }


def url_of(name: str, pattern: URLPattern, ids: dict[str, Any]) -> str:
    kwargs = {key: ids[key] for key in pattern.pattern.converters}
    if name == "notify:open":
        kwargs["pk"] = ids["notification_pk"]
    return reverse(name, kwargs=kwargs)


def answer(client: Client, url: str, method: str) -> str:
    response = client.post(url) if method == "post" else client.get(url)
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("login")):
        return "L"
    return {404: "N", 403: "F"}.get(status, "A" if status in (200, 204, 302, 400) else f"?{status}")


def test_every_url_answers_each_person_as_the_matrix_says(org: Org, django_user_model: Any) -> None:
    ids = played(org)
    ids["notification_pk"] = org.coordinator.notifications.first().pk
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    participant = make_person("member", org.qa, name="郑爽")  # QA takes part; she has no role
    clients = {
        "anonymous": Client(),
        "outsider": client_for(org.outsider),
        "participant": client_for(participant),
        "task owner": client_for(org.owner),
        "coordinator": client_for(org.coordinator),
        "department head": client_for(org.qa_head),
        "admin": client_for(admin),
    }
    # Logging out would end the other sessions' requests: it goes last.
    found = sorted(patterns(), key=lambda entry: entry[0] == "logout")
    assert {name for name, _pattern in found} == set(EXPECTED), "every URL pattern needs a row"
    observed = {}
    for name, pattern in found:
        url = url_of(name, pattern, ids)
        # The method the view answers: POST-only views say 405 to a GET.
        method = "post" if clients["admin"].get(url).status_code == 405 else "get"
        codes = []
        for role in ROLES:
            # Removing the exemption works once: it is back for the next person.
            DepartmentExemption.objects.get_or_create(
                pk=ids["exemption_pk"],
                defaults={
                    "item_id": ids["pk"],
                    "department": org.finance,
                    "reason": "不涉及",
                    "decided_by": org.coordinator,
                },
            )
            codes.append(answer(clients[role], url, method))
        observed[name] = "".join(codes)
    wrong = {name: (observed[name], EXPECTED[name]) for name in observed if observed[name] != EXPECTED[name]}
    assert wrong == {}, "observed vs expected, roles " + ", ".join(ROLES)
