"""Admins configure a directory source, preview the sync, apply it, and read the run."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from collab.audit.models import AuditEntry
from collab.movein.tests.vendors import APP_ID, APP_SECRET, FakeDirectory
from collab.org.models import Department, DirectorySource, SyncRun, source_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(admin)
    return client


def test_an_admin_adds_a_source_previews_and_applies_in_chinese(
    admin_client: Client, directory_server: FakeDirectory
) -> None:
    response = admin_client.post(
        reverse("admin:org_directorysource_add"),
        {
            "kind": "feishu",
            "name": "飞书",
            "base_url": directory_server.bases["feishu"],
            "app_id": APP_ID,
            "secret": APP_SECRET,
            "root_department_id": "",
            "user_base": "",
            "scheduled": "on",
        },
    )
    assert response.status_code == 302
    source = DirectorySource.objects.get()
    # Sealed at rest, opened only for the vendor, never in a page.
    assert APP_SECRET not in source.sealed_secret
    assert source_secret(source) == APP_SECRET
    change_url = reverse("admin:org_directorysource_change", args=[source.pk])
    page = admin_client.get(change_url, headers={"accept-language": "zh-hans"}).content.decode()
    assert APP_SECRET not in page
    assert "预览同步" in page
    assert AuditEntry.objects.filter(action="org.directory_secret_changed").exists()

    preview = admin_client.post(reverse("admin:org_directorysource_sync", args=[source.pk, "preview"]))
    run = SyncRun.objects.get()
    assert preview.url == reverse("admin:org_directorysource_run", args=[run.pk])
    page = admin_client.get(preview.url, headers={"accept-language": "zh-hans"}).content.decode()
    assert "综合部" in page and "新增" in page
    assert not Department.objects.exists()

    assert (
        admin_client.get(reverse("admin:org_directorysource_sync", args=[source.pk, "apply"])).status_code
        == 405
    )
    admin_client.post(reverse("admin:org_directorysource_sync", args=[source.pk, "apply"]))
    assert Department.objects.filter(name="综合部").count() == 2


def test_a_failing_source_shows_its_error_and_changes_nothing(
    admin_client: Client, directory_server: FakeDirectory
) -> None:
    source = DirectorySource.objects.create(
        kind="dingtalk", name="钉钉", base_url=directory_server.bases["dingtalk"], app_id="wrong"
    )

    response = admin_client.post(
        reverse("admin:org_directorysource_sync", args=[source.pk, "apply"]),
        follow=True,
        headers={"accept-language": "zh-hans"},
    )

    assert "40089" in response.content.decode()
    assert not Department.objects.exists()
    assert not SyncRun.objects.exists()
