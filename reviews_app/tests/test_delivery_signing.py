"""Signing the acceptance form (双方签字确认): who may sign what, what is recorded, what the database
refuses by itself, and how a form changed behind the application's back shows up."""

import hashlib
import json
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from collab.org.models import display_name
from collab.testing import Org, client_for
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError
from reviews_app.acceptance import acceptance_digests, acceptance_intact, canonical_content
from reviews_app.models import Deliverable, DeliverableFile, DeliverableStatus, DeliverableVersion, Signature
from reviews_app.tests.delivery_support import (
    EN,
    accept,
    at,
    plan_task,
    png_data_url,
    request_changes,
    revise,
    sign,
    signed,
    snapshot,
    started_item,
    submit,
)
from tasks_app.models import Task
from tasks_app.tests.support import finish_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


@pytest.fixture
def task(item: CollaborationItem) -> Task:
    return plan_task(item)


@pytest.fixture
def accepted(org: Org, task: Task) -> Deliverable:
    deliverable = submit(org, task)
    with time_machine.travel(at("2026-09-30 16:00"), tick=False):
        accept(org, deliverable)
    return deliverable


def refused(attempt: Any) -> str:
    """Runs a signing attempt that must be refused; returns the message (in English)."""
    before = Signature.objects.count()
    with translation.override("en"), pytest.raises(ItemError) as error:
        attempt()
    assert Signature.objects.count() == before
    return error.value.message


# --- what a signature records ---------------------------------------------------------------------


def test_a_signature_records_who_when_where_and_what(org: Org, accepted: Deliverable) -> None:
    drawing = png_data_url()
    with time_machine.travel(at("2026-09-30 17:00"), tick=False):
        signature = sign(org.owner, accepted, "deliverer", ip_address="192.168.3.21", drawing=drawing)
    assert (signature.role, signature.signer, signature.ip_address) == (
        "deliverer",
        org.owner,
        "192.168.3.21",
    )
    assert signature.signed_at == at("2026-09-30 17:00") and signature.drawing == drawing
    assert signature.version == DeliverableVersion.objects.get(deliverable=accepted)
    content = json.loads(canonical_content(accepted))
    assert content == {
        "item": accepted.task.item.number,
        "topic": "Q3产品上线测试",
        "task": "提交测试计划",
        "deliverable": "测试报告",
        "criteria": "测试用例覆盖率≥95%",
        "deliverer": org.owner.pk,
        "receiver": org.receiver.pk,
        "version": 1,
        "note": "覆盖全部核心用例",
        "decision": "accepted",
        "reviewer": org.receiver.pk,
        "reviewed_at": "2026-09-30T08:00:00.000000+00:00",
        "files": [{"name": "测试报告.pdf", "sha256": hashlib.sha256(b"%PDF-1.4 test report v1").hexdigest()}],
    }
    assert signature.content_digest == hashlib.sha256(canonical_content(accepted)).hexdigest()
    file_sha = hashlib.sha256(b"%PDF-1.4 test report v1").hexdigest()
    assert signature.files_digest == hashlib.sha256(file_sha.encode()).hexdigest()
    assert acceptance_digests(accepted) == (signature.content_digest, signature.files_digest)


def test_both_sign_the_same_digests_and_the_form_locks(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    first, second = Signature.objects.filter(deliverable=deliverable).order_by("pk")
    assert (first.content_digest, first.files_digest) == (second.content_digest, second.files_digest)
    assert deliverable.status == DeliverableStatus.SIGNED and deliverable.locked_at == second.signed_at
    assert acceptance_intact(deliverable)


def only_signer(deliverable: Deliverable, *, r: str) -> str:
    """The refusal naming who alone signs as role ``r`` (in English, as ``refused`` reads it)."""
    person, label = (
        (deliverable.deliverer, "Deliverer") if r == "deliverer" else (deliverable.receiver, "Receiver")
    )
    return f"Only {display_name(person)} signs as {label}: nobody signs for someone else."


# --- every refusal leaves no signature --------------------------------------------------------------


def test_a_third_party_cannot_sign_either_side(org: Org, accepted: Deliverable) -> None:
    for person in (org.coordinator, org.requester, org.collaborator, org.outsider):
        for role in ("deliverer", "receiver"):
            assert refused(lambda p=person, r=role: sign(p, accepted, r)) == only_signer(accepted, r=role)


def test_the_receiver_cannot_sign_as_the_deliverer_nor_the_other_way_round(
    org: Org, accepted: Deliverable
) -> None:
    assert refused(lambda: sign(org.receiver, accepted, "deliverer")) == only_signer(accepted, r="deliverer")
    assert refused(lambda: sign(org.owner, accepted, "receiver")) == only_signer(accepted, r="receiver")
    assert (
        refused(lambda: sign(org.owner, accepted, "witness")) == "Sign as the deliverer or as the receiver."
    )


def test_a_wrong_password_signs_nothing(org: Org, accepted: Deliverable) -> None:
    assert (
        refused(lambda: sign(org.owner, accepted, "deliverer", password="wrong"))
        == "The password is not correct: nothing was signed."
    )
    assert (
        refused(lambda: sign(org.owner, accepted, "deliverer", password=""))
        == "The password is not correct: nothing was signed."
    )


def test_nobody_signs_twice(org: Org, accepted: Deliverable) -> None:
    sign(org.owner, accepted, "deliverer")
    assert (
        refused(lambda: sign(org.owner, accepted, "deliverer"))
        == "You have already signed this acceptance form."
    )
    assert Signature.objects.filter(deliverable=accepted).count() == 1


def test_an_unaccepted_version_is_not_signed(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    # Waiting for review: nothing to sign yet.
    assert (
        refused(lambda: sign(org.owner, deliverable, "deliverer"))
        == "Only an accepted version is signed: the receiver has not accepted this deliverable."
    )
    request_changes(org, deliverable)
    # Changes requested on version 1: still nothing to sign.
    assert (
        refused(lambda: sign(org.receiver, deliverable, "receiver"))
        == "Only an accepted version is signed: the receiver has not accepted this deliverable."
    )
    revise(org, deliverable)
    assert (
        refused(lambda: sign(org.owner, deliverable, "deliverer"))
        == "Only an accepted version is signed: the receiver has not accepted this deliverable."
    )
    assert not Signature.objects.exists()


def test_a_locked_form_takes_no_more_signatures(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    before = snapshot()
    assert (
        refused(lambda: sign(org.owner, deliverable, "deliverer"))
        == "This acceptance form is signed by both sides and locked: nothing on it can change."
    )
    assert (
        refused(lambda: sign(org.receiver, deliverable, "receiver"))
        == "This acceptance form is signed by both sides and locked: nothing on it can change."
    )
    assert snapshot() == before


def test_an_archived_item_takes_no_signature(org: Org, accepted: Deliverable) -> None:
    finish_tasks(accepted.task.item)
    CollaborationItem.objects.filter(pk=accepted.task.item_id).update(status=ItemStatus.CLOSED)
    assert (
        refused(lambda: sign(org.owner, accepted, "deliverer"))
        == "This item is archived and can no longer be changed."
    )


INVALID_DRAWING = "The drawn signature is not a PNG image from the signature pad; clear it and draw again."
LARGE_DRAWING = "The drawn signature is too large; clear it and draw again."


@pytest.mark.parametrize(
    ("drawing", "message"),
    [
        ("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", INVALID_DRAWING),
        ("data:image/png;base64,not base64!", INVALID_DRAWING),
        ("data:image/png;base64," + "QUFB" * 10, INVALID_DRAWING),  # base64, but not a PNG
        ("javascript:alert(1)", INVALID_DRAWING),
        ("data:image/png;base64," + "A" * 200_000, LARGE_DRAWING),
        (png_data_url(width=5000, height=10), LARGE_DRAWING),
    ],
)
def test_a_drawing_must_be_a_small_png(org: Org, accepted: Deliverable, drawing: str, message: str) -> None:
    assert refused(lambda: sign(org.owner, accepted, "deliverer", drawing=drawing)) == message


# --- the database backs the rules ---------------------------------------------------------------------


def _insert(deliverable: Deliverable, version: DeliverableVersion, role: str, signer: Any) -> None:
    with transaction.atomic():
        Signature.objects.create(
            deliverable=deliverable,
            version=version,
            role=role,
            signer=signer,
            content_digest="x",
            files_digest="y",
        )


def test_the_database_refuses_a_wrong_signer_an_unaccepted_version_and_a_second_signature(
    org: Org, task: Task
) -> None:
    deliverable = submit(org, task)
    version = DeliverableVersion.objects.get(deliverable=deliverable)
    with pytest.raises(IntegrityError):  # not accepted
        _insert(deliverable, version, "deliverer", org.owner)
    accept(org, deliverable)
    with pytest.raises(IntegrityError):  # someone else as the deliverer
        _insert(deliverable, version, "deliverer", org.coordinator)
    with pytest.raises(IntegrityError):  # the receiver as the deliverer
        _insert(deliverable, version, "deliverer", org.receiver)
    _insert(deliverable, version, "deliverer", org.owner)
    with pytest.raises(IntegrityError):  # the same side twice
        _insert(deliverable, version, "deliverer", org.owner)
    with pytest.raises(IntegrityError), transaction.atomic():  # a signature never changes
        Signature.objects.filter(deliverable=deliverable).update(signer=org.receiver, role="receiver")
    assert list(Signature.objects.values_list("role", "signer")) == [("deliverer", org.owner.pk)]


# --- tampering ----------------------------------------------------------------------------------------


def _page(org: Org, deliverable: Deliverable) -> str:
    url = reverse("reviews_app:deliverable_detail", args=[deliverable.task.item_id, deliverable.pk])
    response = client_for(org.coordinator).get(url, headers=EN)
    assert response.status_code == 200
    return response.content.decode()


def test_an_untouched_signed_form_matches_its_digests(org: Org, task: Task) -> None:
    page = _page(org, signed(org, task))
    assert 'data-intact="true"' in page and "match the digests" in page


def test_a_note_changed_behind_the_applications_back_is_reported(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    DeliverableVersion.objects.filter(deliverable=deliverable).update(note="签字后偷偷改过的说明")
    assert not acceptance_intact(deliverable)
    page = _page(org, deliverable)
    assert 'data-intact="false"' in page and "does NOT match" in page
    assert "content differs" in page and "A file differs" not in page


def test_a_file_overwritten_in_storage_is_reported(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    stored = DeliverableFile.objects.get(version__deliverable=deliverable)
    (settings.MEDIA_ROOT / stored.file.name).write_bytes(b"%PDF-1.4 a different report")
    assert not acceptance_intact(deliverable)
    page = _page(org, deliverable)
    assert 'data-intact="false"' in page and "A file differs" in page and "content differs" not in page


def test_a_deleted_file_is_reported(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    stored = DeliverableFile.objects.get(version__deliverable=deliverable)
    (settings.MEDIA_ROOT / stored.file.name).unlink()
    assert not acceptance_intact(deliverable)


def test_a_form_changed_between_the_two_signatures_cannot_be_completed(
    org: Org, accepted: Deliverable
) -> None:
    sign(org.owner, accepted, "deliverer")
    DeliverableVersion.objects.filter(deliverable=accepted).update(note="改过的说明")
    assert refused(lambda: sign(org.receiver, accepted, "receiver")) == (
        "The form changed after 吴杰 signed it, so it cannot be signed."
    )
    accepted.refresh_from_db()
    assert accepted.locked_at is None


def test_a_file_that_no_longer_matches_its_record_cannot_be_signed(org: Org, accepted: Deliverable) -> None:
    stored = DeliverableFile.objects.get(version__deliverable=accepted)
    (settings.MEDIA_ROOT / stored.file.name).write_bytes(b"swapped before signing")
    assert refused(lambda: sign(org.owner, accepted, "deliverer")) == (
        "A file of the accepted version no longer matches what was submitted, so the form cannot be "
        "signed. Ask the administrator to check the stored files."
    )
