"""Directory sync against local DingTalk, Feishu and WeCom servers: preview, apply, leavers, failures."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from collab.audit.models import AuditEntry
from collab.movein import services
from collab.movein.tests.vendors import APP_ID, APP_SECRET, FakeDirectory, User
from collab.notify.models import Notification
from collab.org.models import Department, DirectorySource, Person, display_name
from collab.org.sync.snapshot import DirectoryError
from tasks_app.tests.support import executing_item

pytestmark = pytest.mark.django_db


def make_source(fake: FakeDirectory, kind: str) -> DirectorySource:
    source = DirectorySource.objects.create(
        kind=kind, name=f"{kind} 通讯录", base_url=fake.bases[kind], app_id=APP_ID
    )
    services.directory_source_set_secret(actor=None, source=source, secret=APP_SECRET)
    return source


def tree() -> set[tuple[str, str, str]]:
    return {
        (d.name, d.parent.name if d.parent else "", display_name(d.head) if d.head else "")
        for d in Department.objects.filter(source__isnull=False).select_related("parent", "head")
    }


def actions(run: Any) -> set[tuple[str, str, str]]:
    return {(c["action"], c["kind"], c["name"]) for c in run.diff["changes"]}


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "wecom"])
def test_preview_changes_nothing_and_apply_builds_the_tree_with_heads(
    directory_server: FakeDirectory, kind: str
) -> None:
    source = make_source(directory_server, kind)

    preview = services.directory_preview(source=source)

    assert ("added", "department", "综合部") in actions(preview)
    assert ("added", "person", "赵强") in actions(preview)
    assert not Department.objects.exists()
    assert not get_user_model().objects.exists()

    run = services.directory_apply(source=source)

    assert actions(run) == actions(preview)
    # Two departments named 综合部, under two branches, each with its own head from the source.
    assert tree() == {
        ("北京分公司", "", "张敏"),
        ("综合部", "北京分公司", "李雷"),
        ("上海分公司", "", ""),
        ("综合部", "上海分公司", "王芳"),
    }
    zhao = Person.objects.select_related("user", "department__parent").get(source_user_id="zhao")
    assert str(zhao) == "赵强"
    assert zhao.department is not None and zhao.department.parent is not None
    assert zhao.department.parent.name == "上海分公司"
    assert not zhao.user.has_usable_password()
    # The user lists came over several pages (WeCom's member list through its cursor).
    assert len([c for c in directory_server.calls if "user" in c]) > 5
    im_field = {"dingtalk": "dingtalk_id", "feishu": "feishu_id", "wecom": "wecom_id"}[kind]
    assert getattr(zhao, im_field) == "zhao"
    assert AuditEntry.objects.filter(action="org.sync_added").count() == 9

    again = services.directory_apply(source=source)

    assert again.diff["changes"] == []
    assert directory_server.token_calls == 1  # the cached token served all three runs


def test_renames_moves_and_leavers_are_found_and_leavers_are_deactivated_not_deleted(
    directory_server: FakeDirectory,
) -> None:
    source = make_source(directory_server, "dingtalk")
    services.directory_apply(source=source)
    directory_server.depts[1].name = "综合管理部"
    directory_server.depts[3].parent = "2"  # Shanghai's 综合部 now under Beijing, beside 综合管理部
    directory_server.users = [u for u in directory_server.users if u.id != "han"]
    directory_server.users[0].name = "张敏敏"
    directory_server.users.append(User("sun", "孙丽", ["4"]))

    run = services.directory_apply(source=source)

    assert actions(run) == {
        ("renamed", "department", "综合管理部"),
        ("moved", "department", "综合部"),
        ("renamed", "person", "张敏敏"),
        ("left", "person", "韩梅梅"),
        ("added", "person", "孙丽"),
    }
    han = get_user_model().objects.get(person__source_user_id="han")
    assert han.is_active is False
    assert Department.objects.get(external_id="5").parent == Department.objects.get(external_id="2")

    directory_server.users.append(User("han", "韩梅梅", ["3"]))
    back = services.directory_apply(source=source)

    assert actions(back) == {("returned", "person", "韩梅梅")}
    han.refresh_from_db()
    assert han.is_active is True


@pytest.mark.parametrize(
    ("kind", "fragment", "code"),
    [
        ("dingtalk", "/topapi/v2/user/list", 90018),
        ("feishu", "/users/find_by_department", 99991400),
        ("wecom", "/cgi-bin/user/list", 45009),
    ],
)
def test_a_rate_limit_is_waited_out_and_an_expired_token_is_refreshed(
    directory_server: FakeDirectory, kind: str, fragment: str, code: int
) -> None:
    source = make_source(directory_server, kind)
    directory_server.token_lifetime = 4  # the token dies part-way through the fetch
    directory_server.failures = [(fragment, code)]

    run = services.directory_apply(source=source)

    assert len([c for c in run.diff["changes"] if c["kind"] == "person"]) == 5
    assert directory_server.token_calls >= 2
    assert directory_server.failures == []


@pytest.mark.parametrize(
    ("kind", "fragment", "code"),
    [
        ("dingtalk", "/topapi/v2/user/list", 60011),
        ("feishu", "/users/find_by_department", 40004),
        ("wecom", "/cgi-bin/user/list", 60011),
    ],
)
def test_a_vendor_error_half_way_changes_nothing_and_is_shown(
    directory_server: FakeDirectory, kind: str, fragment: str, code: int
) -> None:
    source = make_source(directory_server, kind)
    services.directory_apply(source=source)
    directory_server.users.append(User("sun", "孙丽", ["4"]))
    directory_server.depts[0].name = "北京总部"
    directory_server.failures = [(fragment, 0), (fragment, code)]  # the second page of users fails

    with pytest.raises(DirectoryError, match=str(code)):
        services.directory_apply(source=source)

    assert not Department.objects.filter(name="北京总部").exists()
    assert not Person.objects.filter(source_user_id="sun").exists()
    source.refresh_from_db()
    assert str(code) in source.last_error
    assert APP_SECRET not in source.last_error


def test_wrong_credentials_say_so_without_the_secret(directory_server: FakeDirectory) -> None:
    source = make_source(directory_server, "wecom")
    services.directory_source_set_secret(actor=None, source=source, secret="not-the-secret")

    with pytest.raises(DirectoryError, match="40001"):
        services.directory_preview(source=source)
    assert "not-the-secret" not in DirectorySource.objects.get(pk=source.pk).sealed_secret


def test_people_who_leave_have_their_open_work_listed_and_coordinators_told(
    directory_server: FakeDirectory, org: Any
) -> None:
    item = executing_item(org)
    source = make_source(directory_server, "dingtalk")
    Person.objects.filter(user=org.owner).update(dingtalk_id="li")
    first = services.directory_apply(source=source)
    assert ("linked", "person", "李雷") in actions(first)

    directory_server.users = [u for u in directory_server.users if u.id != "li"]
    run = services.directory_apply(source=source)

    org.owner.refresh_from_db()
    assert org.owner.is_active is False
    [person] = run.diff["handover"]
    assert [(e["kind"], e["what"], e["item_id"]) for e in person["items"]] == [
        ("task", "提交测试计划", item.pk)
    ]
    notice = Notification.objects.get(recipient=org.coordinator, kind="org.person_left")
    assert notice.url == f"/items/{item.pk}/"
    assert "李雷" in notice.title

    services.directory_apply(source=source)  # a repeated run tells nobody twice
    assert Notification.objects.filter(kind="org.person_left").count() == 1
