"""Error pages are the product's own, in the reader's language, and never Django's technical pages;
every page carries the Content Security Policy, and no template runs inline script."""

import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from collab.testing import Org, client_for, make_item, make_person

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_an_outsider_gets_a_chinese_not_found_page(org: Org) -> None:
    item = make_item(org)
    response = client_for(org.outsider).get(reverse("requests_app:item_detail", args=[item.pk]))
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and "此页面不存在，或未与您共享。" in page
    assert "URLconf" not in page and item.topic not in page


@pytest.mark.django_db
def test_a_participant_who_may_only_read_gets_a_chinese_refusal(org: Org) -> None:
    item = make_item(org)
    response = client_for(org.owner).get(reverse("requests_app:item_edit", args=[item.pk]))
    page = response.content.decode()
    assert response.status_code == 403
    assert "无权操作" in page and "您无权执行此操作。" in page


@pytest.mark.django_db
def test_an_english_reader_gets_it_in_english(org: Org) -> None:
    reader = make_person("reader", org.finance, language="en")
    response = client_for(reader).get("/no-such-page/", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert "This page does not exist, or it is not shared with you." in response.content.decode()


@pytest.mark.django_db
def test_an_expired_form_is_explained_not_a_technical_page() -> None:
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode() and "CSRF" not in response.content.decode()


def test_a_server_error_page_needs_no_database_and_speaks_chinese() -> None:
    with translation.override("zh-hans"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "出错了" in response.content.decode()


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(org: Org) -> None:
    policy = client_for(org.requester).get(reverse("home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_no_template_runs_inline_script_or_carries_a_style_block() -> None:
    """An inline handler or script block would be refused by the policy (and the button dead); a
    <style> block belongs in static/css, where the policy can stop allowing inline styles. PDF
    templates (those extending pdf/base.html, rendered by WeasyPrint, never served) and e-mails
    (mail clients drop stylesheets) keep theirs."""
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
    style_block = re.compile(r"<style\b[^>]*>", re.IGNORECASE)
    served = [
        path
        for path in (ROOT / "templates").rglob("*.html")
        if "/pdf/" not in str(path)
        and "/email/" not in str(path)
        and '{% extends "pdf/base.html" %}' not in path.read_text()
    ]
    assert any(path.name == "deliverable_detail.html" for path in served)
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in served
        for pattern in (handler, inline_script, style_block)
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_print_button_works_from_a_static_file(org: Org) -> None:
    item = make_item(org)
    page = client_for(org.requester).get(reverse("requests_app:item_print", args=[item.pk])).content.decode()
    assert '<button type="button" data-print>' in page and "js/print.js" in page
    assert "window.print()" in (ROOT / "static" / "js" / "print.js").read_text()
