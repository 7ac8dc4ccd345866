"""What a person typed in the requirement form is not lost when their session expires, and
nobody else ever sees it."""

import html
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from collab.testing import PASSWORD, Org, client_for, make_item
from requests_app.draft_services import draft_owner_token
from requests_app.models import CollaborationItem, FormDraft
from requests_app.tests.test_item_views import form_post

pytestmark = pytest.mark.django_db

NEW = reverse("requests_app:item_create")
KEEP = reverse("requests_app:item_draft_keep")


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def typed(org: Org, owner: Any, form: str = FormDraft.NEW_ITEM, **overrides: Any) -> dict[str, Any]:
    """A half-typed form as the page posts it, with the token of the page made for ``owner``."""
    values = {
        "topic": "Q4新版结算流程上线",
        "goal": "12月20日前上线新版结算流程",
        "draft_token": draft_owner_token(owner, form),
        "csrfmiddlewaretoken": "x" * 64,
    }
    return form_post(org, **(values | overrides))


def log_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_what_is_typed_is_kept_in_the_background_and_back_on_the_next_visit(org: Org) -> None:
    client = client_for(org.requester)
    response = client.post(KEEP, typed(org, org.requester))
    assert "已保留您填写的内容" in text(response)
    draft = FormDraft.objects.get(owner=org.requester, form=FormDraft.NEW_ITEM)
    # The form's fields and rows, not the CSRF token, the button pressed or the page's token.
    assert draft.data["topic"] == ["Q4新版结算流程上线"]
    assert draft.data["participations-1-core_need"] == ["协助设计测试用例"]
    assert not {"csrfmiddlewaretoken", "draft_token", "submit"} & set(draft.data)
    # Odd names are left out and NUL characters dropped: PostgreSQL's JSON cannot store them.
    client.post(KEEP, typed(org, org.requester, remarks="需要\x00确认", **{"milestones-0-\x00": "x"}))
    assert FormDraft.objects.get().data["remarks"] == ["需要确认"]
    assert "milestones-0-\x00" not in FormDraft.objects.get().data

    page = client.get(NEW)
    assert page.context["restored"].pk == draft.pk
    content = text(page)
    assert 'value="Q4新版结算流程上线"' in content and "12月20日前上线新版结算流程" in content
    assert 'value="协助设计测试用例"' in content
    assert "start-from" not in content  # no template offered over unsent input
    assert not CollaborationItem.objects.exists()  # kept is not saved


def test_a_post_after_the_session_expired_is_kept_and_back_after_signing_in(org: Org) -> None:
    client = log_in("requester")
    Session.objects.all().delete()  # the session expires while the form is open
    response = client.post(NEW, typed(org, org.requester))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={NEW}"
    assert not CollaborationItem.objects.exists()  # nothing was sent
    assert FormDraft.objects.get().owner == org.requester

    signed_in = client.post(f"{reverse('login')}?next={NEW}", {"username": "requester", "password": PASSWORD})
    assert signed_in["Location"] == NEW
    page = client.get(NEW)
    assert 'value="Q4新版结算流程上线"' in text(page)

    # Sending it files the item and forgets the kept copy.
    client.post(NEW, form_post(org, topic="Q4新版结算流程上线"))
    assert CollaborationItem.objects.get().topic == "Q4新版结算流程上线"
    assert not FormDraft.objects.exists()


def test_someone_else_signing_in_on_the_same_computer_does_not_see_it(org: Org) -> None:
    client = Client()
    client.post(NEW, typed(org, org.requester))  # the requester's session had expired
    client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    page = client.get(NEW)
    assert page.context.get("restored") is None
    assert "Q4新版结算流程上线" not in text(page)
    assert FormDraft.objects.get().owner == org.requester


@pytest.mark.parametrize(
    "token",
    ["", "forged", "kept-for-another-form", "tampered"],
)
def test_a_post_without_a_genuine_token_is_only_sent_to_sign_in(org: Org, token: str) -> None:
    data = typed(org, org.requester)
    if token == "kept-for-another-form":
        data["draft_token"] = draft_owner_token(org.requester, "item-1")
    elif token == "tampered":
        data["draft_token"] = draft_owner_token(org.requester, FormDraft.NEW_ITEM)[:-2] + "xx"
    else:
        data["draft_token"] = token
    response = Client().post(NEW, data)
    assert response["Location"] == f"{reverse('login')}?next={NEW}"
    assert not FormDraft.objects.exists()


def test_discarding_forgets_it(org: Org) -> None:
    client = client_for(org.requester)
    client.post(KEEP, typed(org, org.requester))
    response = client.post(reverse("requests_app:item_draft_discard"))
    assert response["Location"] == NEW
    assert not FormDraft.objects.exists()
    assert client.get(NEW).context.get("restored") is None


def test_the_edit_form_keeps_input_typed_against_its_version(org: Org) -> None:
    item = make_item(org, submit=False)
    form = FormDraft.key_for(item.pk)
    edit = reverse("requests_app:item_edit", args=[item.pk])
    client = client_for(org.requester)
    client.post(
        reverse("requests_app:item_edit_draft_keep", args=[item.pk]),
        typed(org, org.requester, form, version=str(item.version), topic="改过的主题"),
    )
    assert client.get(edit).context["version"] == item.version
    # Someone else saves the item meanwhile: the kept input is not written over their change.
    coordinator = client_for(org.coordinator)
    coordinator.post(edit, form_post(org, action="save", version=str(item.version), topic="协调人改的"))
    page = client.get(edit)
    assert 'value="改过的主题"' in text(page)
    response = client.post(edit, form_post(org, action="save", version=str(item.version), topic="改过的主题"))
    assert "您编辑期间，其他人修改了此事项" in text(response)
    item.refresh_from_db()
    assert item.topic == "协调人改的"
    assert FormDraft.objects.filter(owner=org.requester, form=form).exists()  # still kept


def test_nobody_keeps_input_on_an_item_they_may_not_edit(org: Org) -> None:
    item = make_item(org)
    url = reverse("requests_app:item_edit_draft_keep", args=[item.pk])
    assert client_for(org.outsider).post(url, {"topic": "x"}).status_code == 404
    assert client_for(org.owner).post(url, {"topic": "x"}).status_code == 403
    assert not FormDraft.objects.exists()


def test_a_form_refused_by_the_csrf_check_is_kept_too(org: Org) -> None:
    """Signing in again in another tab renews the CSRF token: the old tab's post is kept."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.requester)
    response = client.post(NEW, typed(org, org.requester))
    assert response.status_code == 302 and response["Location"] == NEW
    assert FormDraft.objects.get().data["topic"] == ["Q4新版结算流程上线"]
    assert not CollaborationItem.objects.exists()
    # Any other form refused by the check gets the usual page, and nothing is kept.
    FormDraft.objects.all().delete()
    refused = client.post(reverse("notify:read_all"), typed(org, org.requester))
    assert refused.status_code == 403
    assert not FormDraft.objects.exists()
