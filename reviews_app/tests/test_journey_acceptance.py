"""Stages 5-6 in Chromium, each person in their own session: the owner submits a deliverable;
the receiver requests changes; the owner revises; the receiver accepts; both sign, one with a
drawn signature; the coordinator records the retrospective and downloads the archive; the
requester, owner of an improvement measure, still finds it in My work once the item is archived
and marks it done in the improvement log.

Played in zh-hans at 1440 px and in English at 375 px (``collab.testing.journey_views``: all four
combinations take too long for CI's budget; COLLAB_JOURNEY_VIEWS=all runs them)."""

import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from collab.testing import PASSWORD, JourneyView, Org, finds_handoff, handoff_gone, journey_views, make_org
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app import delivery_services as services
from reviews_app.models import Deliverable, ImprovementMeasure, Signature
from reviews_app.tests.delivery_support import started_item, upload
from tasks_app.models import Task

pytestmark = [pytest.mark.browser]


@pytest.fixture
def setting(transactional_db: Any) -> tuple[Org, CollaborationItem]:
    org = make_org()
    item = started_item(org)
    # The second task (R&D's fixes, received by QA's owner) is delivered and signed outside the
    # browser, so that the archive has every task covered.
    fix = Task.objects.get(item=item, name="完成功能修复")
    delivered = services.deliverable_submit(
        actor=org.collaborator,
        task_id=fix.pk,
        data=services.DeliverableData(name="缺陷修复说明", note="P0/P1全部修复"),
        uploads=[upload("修复清单.pdf", b"%PDF-1.4 fixes")],
    )
    services.deliverable_accept(actor=org.owner, deliverable_id=delivered.pk, version_number=1)
    for person, role in ((org.collaborator, "deliverer"), (org.owner, "receiver")):
        services.deliverable_sign(
            actor=person,
            deliverable_id=delivered.pk,
            role=role,
            password=PASSWORD,
            ip_address="127.0.0.1",
            drawing="",
        )
    return org, item


class People:
    def __init__(self, chromium: Any, base: str, view: JourneyView) -> None:
        self.chromium, self.base, self.view, self.pages = chromium, base, view, {}

    def __getitem__(self, username: str) -> Any:
        if username not in self.pages:
            self.pages[username] = self.view.log_in(self.chromium, self.base, username, timeout=20_000)
        return self.pages[username]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.mark.parametrize("view", journey_views())
def test_from_delivery_to_archive(
    chromium: Any, live_server: Any, setting: Any, tmp_path: Path, view: JourneyView
) -> None:
    org, item = setting
    view.speak()
    plan = Task.objects.get(item=item, name="提交测试计划")
    base = live_server.url
    people = People(chromium, base, view)
    first = tmp_path / "测试报告.pdf"
    first.write_bytes(b"%PDF-1.4 report v1")
    second = tmp_path / "测试报告-修订.pdf"
    second.write_bytes(b"%PDF-1.4 report v2 with screenshots")
    try:
        owner = people["owner"]
        owner.goto(f"{base}/items/{item.pk}/tasks/{plan.pk}/deliverables/new/")
        owner.fill("[name=name]", "测试报告")
        owner.set_input_files("[name=uploads]", str(first))
        owner.fill("[name=note]", "覆盖全部核心用例")
        owner.locator("form.card button.primary[type=submit]").click()
        owner.locator("#versions").wait_for()
        deliverable = Deliverable.objects.get(task=plan)
        detail = f"{base}/items/{item.pk}/deliverables/{deliverable.pk}/"

        receiver = people["receiver"]
        finds_handoff(receiver, base, "deliverable.submitted", item)
        receiver.goto(detail)
        assert receiver.locator("#review-clock").is_visible()
        receiver.check("#review input[value=changes_requested]")
        receiver.fill("#review [name=comments]", "第3章用例结果描述不清晰,需补充截图")
        receiver.locator("#review button[type=submit]").click()
        receiver.locator("#version-1", has_text="第3章用例结果描述不清晰").wait_for()
        handoff_gone(receiver, base, "deliverable.submitted", item)
        finds_handoff(owner, base, "deliverable.changes_requested", item)

        owner.goto(detail)
        owner.get_by_role("link", name=view.text("Submit a revised version")).click()
        owner.set_input_files("[name=uploads]", str(second))
        owner.fill("[name=note]", "第3章已补充截图")
        owner.locator("form.card button.primary[type=submit]").click()
        owner.locator("#version-2").wait_for()
        assert owner.inner_text("#version-count").strip() == "2"
        handoff_gone(owner, base, "deliverable.changes_requested", item)

        receiver.goto(detail)
        receiver.check("#review input[value=accepted]")
        receiver.locator("#review button[type=submit]").click()
        receiver.locator("#sign-form").wait_for()
        # Both sides sign next: the deliverer is told, the receiver (who accepted) has it in My work.
        finds_handoff(owner, base, "deliverable.accepted", item)
        finds_handoff(receiver, base, "deliverable.accepted", item, told=False)
        receiver.goto(detail)
        receiver.fill("#sign-form input[name=password]", "wrong password")
        receiver.locator("#sign-form button[type=submit]").click()
        assert view.text("The password is not correct: nothing was signed.") in receiver.inner_text(
            ".messages"
        )
        receiver.fill("#sign-form input[name=password]", PASSWORD)
        receiver.locator("#sign-form button[type=submit]").click()
        receiver.locator("#signatures", has_text=view.text("Receiver")).wait_for()
        handoff_gone(receiver, base, "deliverable.accepted", item)

        owner.goto(detail)
        pad = owner.locator("canvas.signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        owner.mouse.move(box["x"] + 20, box["y"] + 90)
        owner.mouse.down()
        for step in range(1, 10):
            owner.mouse.move(box["x"] + 20 + step * 30, box["y"] + 90 - (step % 3) * 25)
        owner.mouse.up()
        owner.fill("#sign-form input[name=password]", PASSWORD)
        owner.locator("#sign-form button[type=submit]").click()
        owner.locator("#integrity[data-intact=true]").wait_for()
        assert Signature.objects.filter(deliverable=deliverable).count() == 2
        assert Signature.objects.get(deliverable=deliverable, role="deliverer").drawing.startswith(
            "data:image/png"
        )

        handoff_gone(owner, base, "deliverable.accepted", item)
        coordinator = people["coordinator"]
        finds_handoff(coordinator, base, "item.all_signed", item)
        coordinator.goto(f"{base}/items/{item.pk}/retrospective/")
        coordinator.get_by_role("link", name=view.text("Record the retrospective")).click()
        coordinator.fill("[name=held_on]", timezone.localdate().isoformat())
        coordinator.select_option(
            "[name=participants]", [str(org.coordinator.pk), str(org.owner.pk), str(org.receiver.pk)]
        )
        coordinator.fill("[name=highlights]", "跨部门沟通效率高")
        coordinator.fill("[name=shortcomings]", "需求变更未及时同步")
        coordinator.fill("[name=measures-0-text]", "建立需求变更通知机制")
        coordinator.select_option("[name=measures-0-owner]", str(org.requester.pk))
        coordinator.fill("[name=measures-0-due_date]", "2026-12-31")
        coordinator.locator("form.card button.primary[type=submit]").click()
        coordinator.locator(".message.success").wait_for()
        handoff_gone(coordinator, base, "item.all_signed", item)
        # The coordinator recorded it: the archive is his next step (nobody else to tell).
        finds_handoff(coordinator, base, "item.archive_ready", item, told=False)
        finds_handoff(people["requester"], base, "improvement.assigned", item)
        # Closed at once: a page left open keeps polling the server while the archive builds.
        people.pages.pop("requester").context.close()

        coordinator.goto(f"{base}/items/{item.pk}/archive/")
        # Irreversible: the page names what becomes read-only and asks to confirm it.
        confirm = view.text("I understand that the item becomes read-only for good.")
        assert confirm in coordinator.locator("#archive-form").inner_text()
        coordinator.locator("#archive-form [name=confirm]").check()
        # Tests build the archive inline, inside this request: on a busy machine that takes a while.
        coordinator.get_by_role("button", name=view.text("Build the archive and close the item")).click(
            timeout=120_000
        )
        download_link = coordinator.get_by_role("link", name=view.text("Download the archive"))
        download_link.wait_for(timeout=60_000)
        with coordinator.expect_download() as info:
            download_link.click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        assert target.name.startswith(f"协作流程-{item.number}-") and target.suffix == ".zip"
        names = zipfile.ZipFile(target).namelist()
        assert any(n.endswith("测试报告-修订.pdf") for n in names)
        assert any(n.endswith("manifest.json") for n in names)
        assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
        handoff_gone(coordinator, base, "item.archive_ready", item)

        # The measure outlives the read-only item: it stays in its owner's My work, linked to the
        # company improvement log, where marking it done is a write to the log, not to the item.
        requester = people["requester"]
        finds_handoff(requester, base, "improvement.assigned", item, told=False)
        requester.locator(f"#work-measures li.work-entry[data-item='{item.pk}'] a.work-action").click()
        requester.wait_for_url(f"{base}/improvements/**")
        row = requester.locator("tr[data-status=open]", has_text="建立需求变更通知机制")
        row.locator("summary").click()
        row.locator("textarea[name=note]").fill("变更通知已接入协作平台")
        row.locator("button[type=submit]").click()
        requester.locator(".message.success").wait_for()
        assert ImprovementMeasure.objects.get(retrospective__item=item).status == "done"
        handoff_gone(requester, base, "improvement.assigned", item)
    finally:
        people.close()
