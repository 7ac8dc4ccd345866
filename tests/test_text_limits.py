"""Free text has a maximum, enforced by the forms (a message) and by the database (a check)."""

from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from collab.fields import LONG_TEXT, BoundedTextField
from collab.testing import Org, client_for, make_item
from requests_app.models import CollaborationItem
from tests.forms_support import FormParser

pytestmark = pytest.mark.django_db

# Text the system writes (errors, rendered notifications, the audit note, ciphertext, a signature
# drawing checked by its own rule), not what a person types into a form.
SYSTEM_TEXT = {
    "notify.Notification.body",
    "notify.Delivery.body",
    "notify.Delivery.last_error",
    "notify.RobotChannel.webhook_url",
    "notify.RobotChannel.secret",
    "audit.AuditEntry.note",
    "reviews_app.Archive.error",
    "exports.Export.error",
    "reviews_app.Signature.drawing",
    # The acceptance form's snapshot at acceptance, written by the application for the signatures.
    "reviews_app.DeliverableVersion.accepted_content",
    "org.DirectorySource.sealed_secret",
    "org.VendorToken.sealed_token",
    "org.DirectorySource.last_error",
    "org.SyncRun.error",
    # The State Council's holiday notice, pasted whole by an admin and parsed, not shown as typed.
    "org.HolidayNotice.text",
}


def test_every_free_text_column_of_ours_is_bounded() -> None:
    unbounded = [
        f"{model._meta.app_label}.{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith(("collab.", "requests_app.", "tasks_app.", "reviews_app."))
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField) and not isinstance(field, BoundedTextField)
    ]
    assert sorted(set(unbounded) - SYSTEM_TEXT) == []


def test_the_database_refuses_an_overlong_goal_written_around_the_forms(org: Org) -> None:
    item = make_item(org, submit=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollaborationItem.objects.filter(pk=item.pk).update(goal="目" * (LONG_TEXT + 1))
    CollaborationItem.objects.filter(pk=item.pk).update(goal="目" * LONG_TEXT)  # the limit itself is fine


def test_a_three_megabyte_goal_gets_a_message_and_changes_nothing(org: Org) -> None:
    item = make_item(org, submit=False)
    client = client_for(org.requester)
    url = reverse("requests_app:item_edit", args=[item.pk])
    parser = FormParser(url)
    parser.feed(client.get(url).content.decode())
    [form] = [f for f in parser.forms if f.method == "post" and any(n == "goal" for n, _k, _v in f.fields)]
    data: dict[str, Any] = {}
    for name, _kind, value in form.fields:
        data.setdefault(name, []).append(value)
    data["goal"] = ["确保上线" * (3 * 1024 * 1024 // 12)]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "确保该变量包含不超过 4000 字符" in response.content.decode()
    item.refresh_from_db()
    assert item.goal == "确保Q3新功能稳定上线,覆盖90%用户需求" and item.version == 1
