"""Admins manage departments, regions and people in the admin pages."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from collab.org.models import Department
from collab.testing import Org

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(org: Org, django_user_model: type) -> Client:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")  # type: ignore[attr-defined]
    client = Client()
    client.force_login(admin)
    return client


def test_admin_pages_open(admin_client: Client, org: Org) -> None:
    for url in [
        reverse("admin:org_department_changelist"),
        reverse("admin:org_department_add"),
        reverse("admin:org_region_changelist"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[org.owner.pk]),
        reverse("admin:requests_app_collaborationitem_changelist"),
        reverse("admin:audit_auditentry_changelist"),
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_an_admin_creates_a_department_with_its_head(admin_client: Client, org: Org) -> None:
    response = admin_client.post(
        reverse("admin:org_department_add"),
        {"name": "运营部", "parent": "", "head": org.receiver.pk, "region": org.region.pk},
    )
    assert response.status_code == 302
    department = Department.objects.get(name="运营部")
    assert department.group.name == "department:运营部"
    assert Group.objects.filter(pk=department.group_id, user=org.receiver).exists()


def test_items_cannot_be_edited_in_the_admin(admin_client: Client, org: Org) -> None:
    from collab.testing import make_item

    item = make_item(org)
    page = admin_client.get(reverse("admin:requests_app_collaborationitem_change", args=[item.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
