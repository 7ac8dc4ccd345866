"""Signed forms sign a snapshot: the acceptance form as the receiver accepted it (item number and
topic included) is stored with the version, and both signatures' digest covers that snapshot.

A recorded requirement change after acceptance (a new topic) alters neither what was signed nor
what is still to be signed; a change behind the application's back (the snapshot, the form or a
file edited in the database or in storage) still shows.
"""

import json

import pytest
from django.conf import settings
from django.utils.translation import gettext as _

from collab.testing import Org, assert_refused
from requests_app import services as item_services
from requests_app.models import CollaborationItem
from reviews_app import delivery_services
from reviews_app.acceptance import (
    acceptance_digests,
    acceptance_intact,
    acceptance_queryset,
    canonical_content,
)
from reviews_app.archive_readiness import archive_problems
from reviews_app.models import Deliverable, DeliverableFile, DeliverableStatus, DeliverableVersion
from reviews_app.tests.delivery_support import (
    accept,
    latest,
    plan_task,
    sign,
    signed,
    started_item,
    submit,
    upload,
)
from reviews_app.tests.test_archive_support import record_retro
from tasks_app.models import Task

pytestmark = pytest.mark.django_db


def change_topic(org: Org, item: CollaborationItem, topic: str) -> None:
    item.refresh_from_db()
    data = item_services.item_requirement_data(item)
    data.topic = topic
    item_services.item_change_requirement(
        actor=org.requester, item_id=item.pk, version=item.version, data=data, reason="主题更名"
    )


def test_the_snapshot_is_the_form_as_accepted_with_the_item_number_and_topic(org: Org) -> None:
    item = started_item(org)
    deliverable = submit(org, plan_task(item))
    accept(org, deliverable)
    snapshot = json.loads(latest(deliverable).accepted_content)
    assert (snapshot["item"], snapshot["topic"]) == (item.number, item.topic)
    assert (snapshot["deliverable"], snapshot["decision"]) == ("测试报告", "accepted")
    assert canonical_content(deliverable) == latest(deliverable).accepted_content.encode()


def test_a_topic_change_after_signing_leaves_the_signed_form_intact(org: Org) -> None:
    item = started_item(org)
    deliverable = signed(org, plan_task(item))
    digests = acceptance_digests(deliverable)
    change_topic(org, item, "Q3产品上线测试(更名)")
    assert acceptance_digests(deliverable) == digests
    assert acceptance_intact(deliverable)  # no false "changed after signing"
    assert json.loads(canonical_content(deliverable))["topic"] == "Q3产品上线测试"  # as signed


def test_a_topic_change_between_acceptance_and_signatures_does_not_refuse_the_second(org: Org) -> None:
    item = started_item(org)
    deliverable = submit(org, plan_task(item))
    accept(org, deliverable)
    sign(org.owner, deliverable, "deliverer")
    change_topic(org, item, "Q3产品上线测试(更名)")
    sign(org.receiver, deliverable, "receiver")
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.SIGNED and acceptance_intact(deliverable)


def test_an_item_whose_topic_changed_between_acceptance_and_signing_can_still_be_archived(org: Org) -> None:
    item = started_item(org)
    deliverables = []
    for task in Task.objects.filter(item=item).select_related("owner", "receiver"):
        deliverable = delivery_services.deliverable_submit(
            actor=task.owner,
            task_id=task.pk,
            data=delivery_services.DeliverableData(name=f"{task.name}成果"),
            uploads=[upload()],
        )
        delivery_services.deliverable_accept(
            actor=task.receiver, deliverable_id=deliverable.pk, version_number=1
        )
        sign(task.owner, deliverable, "deliverer")
        deliverables.append(deliverable)
    change_topic(org, item, "Q3产品上线测试(更名)")
    for deliverable in deliverables:
        sign(deliverable.receiver, deliverable, "receiver")
    record_retro(org, item)
    item.refresh_from_db()
    assert archive_problems(item) == []


def test_a_snapshot_edited_in_the_database_is_detected(org: Org) -> None:
    deliverable = signed(org, plan_task(started_item(org)))
    version = latest(deliverable)
    forged = version.accepted_content.replace("测试报告", "伪造报告")
    DeliverableVersion.objects.filter(pk=version.pk).update(accepted_content=forged)
    assert not acceptance_intact(deliverable)


def test_the_form_edited_in_the_database_is_detected_although_the_snapshot_is_untouched(org: Org) -> None:
    deliverable = signed(org, plan_task(started_item(org)))
    Deliverable.objects.filter(pk=deliverable.pk).update(acceptance_criteria="随便看看")
    assert not acceptance_intact(acceptance_queryset().get(pk=deliverable.pk))


def test_a_file_replaced_in_storage_is_detected(org: Org) -> None:
    deliverable = signed(org, plan_task(started_item(org)))
    stored = DeliverableFile.objects.get(version__deliverable=deliverable)
    (settings.MEDIA_ROOT / stored.file.name).write_bytes(b"%PDF-1.4 swapped")
    assert not acceptance_intact(deliverable)


def test_a_form_edited_in_the_database_before_any_signature_cannot_be_signed(org: Org) -> None:
    deliverable = submit(org, plan_task(started_item(org)))
    accept(org, deliverable)
    DeliverableVersion.objects.filter(deliverable=deliverable).update(note="偷偷改过的说明")
    assert_refused(
        lambda: sign(org.owner, deliverable, "deliverer"),
        _(
            "The acceptance form no longer says what the receiver accepted, so it cannot be signed. "
            "Ask the administrator to check it."
        ),
    )
