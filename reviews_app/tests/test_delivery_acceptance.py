"""The acceptance form (《成果验收表》): its printable page, its PDF and the API the archive uses."""

import html
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import translation

from collab.pdf import render_pdf
from collab.testing import Org, client_for
from requests_app.models import CollaborationItem
from reviews_app.acceptance import (
    acceptance_digests,
    acceptance_form_context,
    acceptance_intact,
    acceptance_queryset,
)
from reviews_app.models import DeliverableVersion, Signature
from reviews_app.tests.delivery_support import EN, plan_task, png_data_url, signed, started_item, submit
from tasks_app.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


@pytest.fixture
def task(item: CollaborationItem) -> Task:
    return plan_task(item)


def font_names(pdf: pypdf.PdfReader) -> set[str]:
    names: set[str] = set()
    for page in pdf.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            names.add(str(font.get("/BaseFont", "")))
            for descendant in font.get("/DescendantFonts", []):
                names.add(str(descendant.get_object().get("/BaseFont", "")))
    return names


def test_the_pdf_embeds_a_cjk_font_and_holds_the_form(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    url = reverse("reviews_app:acceptance_pdf", args=[task.item_id, deliverable.pk])
    response = client_for(org.qa_head).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    pdf = pypdf.PdfReader(io.BytesIO(response.content))
    assert any("CJK" in name for name in font_names(pdf)), font_names(pdf)
    content = "".join(page.extract_text() for page in pdf.pages)
    for expected in ("成果验收表", "测试报告", "提交测试计划", "测试用例覆盖率≥95%", "吴杰", "钱多"):
        assert expected in content, expected
    assert sum(len(page.images) for page in pdf.pages) >= 1  # the deliverer's drawn signature


def test_the_archive_renders_the_pdf_from_the_context_alone(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    context = acceptance_form_context(acceptance_queryset().get(pk=deliverable.pk))
    pdf = pypdf.PdfReader(io.BytesIO(render_pdf("reviews_app/acceptance_pdf.html", context)))
    assert "测试报告" in "".join(page.extract_text() for page in pdf.pages)


def test_the_context_holds_what_the_form_shows(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    context = acceptance_form_context(deliverable)
    assert context["deliverable"] == deliverable and context["task"] == task and context["item"] == task.item
    assert (context["deliverer_name"], context["receiver_name"]) == ("吴杰", "钱多")
    assert context["criteria"] == "测试用例覆盖率≥95%"
    assert context["accepted"].number == 1 and context["version_count"] == 1
    assert [f.original_name for f in context["files"]] == ["测试报告.pdf"]
    assert context["signed"] and context["intact"]
    assert (context["content_digest"], context["files_digest"]) == acceptance_digests(deliverable)
    rows = {row["role"]: row for row in context["signature_rows"]}
    assert rows["deliverer"]["signature"].signer == org.owner and rows["deliverer"]["department"] == "测试部"
    assert rows["receiver"]["signature"].signer == org.receiver
    signatures = Signature.objects.filter(deliverable=deliverable)
    assert {(s.content_digest, s.files_digest) for s in signatures} == {acceptance_digests(deliverable)}


def test_an_unsigned_deliverable_still_has_a_form(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    context = acceptance_form_context(deliverable)
    assert context["accepted"] is None and context["version"].number == 1
    assert not context["signed"] and all(row["signature"] is None for row in context["signature_rows"])
    assert acceptance_intact(deliverable)  # nothing signed, nothing to contradict
    pdf = pypdf.PdfReader(io.BytesIO(render_pdf("reviews_app/acceptance_pdf.html", context)))
    assert "测试报告" in "".join(page.extract_text() for page in pdf.pages)


def test_the_printable_form_shows_both_signatures(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    url = reverse("reviews_app:acceptance_print", args=[task.item_id, deliverable.pk])
    page = html.unescape(client_for(org.collaborator).get(url, headers=EN).content.decode())
    for expected in ("成果验收表", "Deliverable acceptance form", "测试报告", "吴杰", "钱多", "10.0.0.8"):
        assert expected in page, expected
    assert png_data_url() in page
    assert "match the digests recorded with the signatures" in page


def test_the_pdf_of_a_tampered_form_says_so(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    DeliverableVersion.objects.filter(deliverable=deliverable).update(note="签字后改过")
    with translation.override("en"):
        context = acceptance_form_context(acceptance_queryset().get(pk=deliverable.pk))
        pdf = pypdf.PdfReader(io.BytesIO(render_pdf("reviews_app/acceptance_pdf.html", context)))
    assert not context["intact"]
    assert "does NOT match" in "".join(page.extract_text() for page in pdf.pages)


def test_the_admin_shows_deliverables_and_signatures_read_only(org: Org, task: Task) -> None:
    from django.contrib.auth import get_user_model

    deliverable = signed(org, task)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    client = client_for(admin)
    for model in ("deliverable", "signature"):
        assert client.get(reverse(f"admin:reviews_app_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:reviews_app_{model}_add")).status_code == 403
    page = client.get(reverse("admin:reviews_app_deliverable_change", args=[deliverable.pk]))
    assert page.status_code == 200 and b'name="name"' not in page.content
