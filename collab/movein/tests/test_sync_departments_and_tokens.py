"""Departments removed at the source, WeCom's paged member list, and the token shared by processes."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from collab.lib.secretbox import unseal
from collab.movein import services
from collab.movein.tests.test_directory_sync import actions, make_source
from collab.movein.tests.vendors import Dept, FakeDirectory, User
from collab.org.models import Department, Person, VendorToken
from collab.org.pickers import search_departments
from collab.org.sync.connectors.wecom import WeComApi
from collab.testing import client_for, database_url, make_item
from requests_app.forms import RegisterFilterForm

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
def test_a_department_removed_at_the_source_is_deactivated_and_stays_on_items(
    directory_server: FakeDirectory, org: Any, kind: str
) -> None:
    directory_server.depts.append(Dept("6", "产品部", "1"))  # the company's 产品部, entered by hand
    source = make_source(directory_server, kind)
    assert ("linked", "department", "产品部") in actions(services.directory_apply(source=source))
    item = make_item(org)  # requested by 产品部
    directory_server.depts = [d for d in directory_server.depts if d.id not in ("6", "5")]
    for user in directory_server.users:  # 上海's 综合部 closes; its people move up to the branch
        user.depts = ["4" if d == "5" else d for d in user.depts]

    preview = services.directory_preview(source=source)

    assert ("removed", "department", "综合部") in actions(preview)
    assert ("removed", "department", "产品部") in actions(preview)
    assert ("moved", "person", "赵强") in actions(preview)
    assert Department.objects.filter(active=False).count() == 0

    services.directory_apply(source=source)

    org.product.refresh_from_db()
    assert org.product.active is False  # deactivated, not deleted
    assert not Department.objects.get(external_id="5").active
    assert not Person.objects.filter(department__external_id="5").exists()
    # Pickers and filters no longer offer them …
    assert search_departments("产品") == []
    assert search_departments("zhb") == [
        {"id": Department.objects.get(external_id="3").pk, "label": "北京分公司 / 综合部"}
    ]
    offered = RegisterFilterForm().fields["department"].queryset  # type: ignore[attr-defined]
    assert org.product not in offered and org.qa in offered
    # … but the item and the register still name the department it was requested by.
    client = client_for(org.coordinator)
    assert "产品部" in client.get(f"/items/{item.pk}/").content.decode()
    register = client.get("/register/").content.decode()
    assert f'<option value="{org.product.pk}"' not in register
    assert "产品部" in register
    item.refresh_from_db()
    assert item.requesting_department == org.product

    directory_server.depts.append(Dept("6", "产品部", "1"))  # and back it comes

    back = services.directory_apply(source=source)

    assert ("restored", "department", "产品部") in actions(back)
    org.product.refresh_from_db()
    assert org.product.active is True
    assert services.directory_apply(source=source).diff["changes"] == []


@pytest.mark.django_db
def test_wecom_member_list_is_read_through_every_page_of_its_cursor(directory_server: FakeDirectory) -> None:
    directory_server.users += [User(f"u{n}", f"员工{n}", ["3"]) for n in range(7)]
    directory_server.users.append(User("last", "末页", ["5"]))  # the very last row of the last page
    directory_server.unlisted = {"last"}  # the department list leaves them out: read one by one
    source = make_source(directory_server, "wecom")

    run = services.directory_apply(source=source)

    pairs = sum(len(u.depts) for u in directory_server.users)
    pages = directory_server.list_id_cursors
    assert len(pages) == -(-pairs // 2)  # 13 rows, two per page: 7 pages
    assert pages[0] == "" and set(pages[1:]) == set(directory_server.cursors)  # each cursor handed out, once
    assert len(set(pages)) == len(pages)
    assert len([c for c in run.diff["changes"] if c["action"] == "added" and c["kind"] == "person"]) == 13
    last = Person.objects.select_related("user", "department").get(source_user_id="last")
    assert str(last) == "末页" and last.department is not None and last.department.external_id == "5"
    assert "GET /cgi-bin/user/get" in directory_server.calls


def _token_in_another_process(source_pk: int, *, call: bool = False) -> str:
    """Runs a connector in a separate Python process on this test's database; returns its token."""
    code = (
        "import django; django.setup()\n"
        "from collab.org.models import DirectorySource\n"
        "from collab.org.sync.connectors.wecom import WeComApi\n"
        f"api = WeComApi(DirectorySource.objects.get(pk={source_pk}))\n"
        + ("api.call('GET', '/cgi-bin/department/list', query={'id': '1'})\n" if call else "")
        + "print(api.token())\n"
    )
    env = dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "collab.settings",
        "DATABASE_URL": database_url(),
        "COLLAB_VAR_DIR": str(settings.VAR_DIR),
        "no_proxy": "127.0.0.1,localhost",
    }
    done = subprocess.run(  # noqa: S603 (this test's python)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_the_access_token_is_shared_by_processes_and_refreshed_when_the_vendor_refuses_it(
    directory_server: FakeDirectory,
) -> None:
    source = make_source(directory_server, "wecom")

    first = _token_in_another_process(source.pk)
    second = _token_in_another_process(source.pk)

    assert first == second
    assert directory_server.token_calls == 1  # one token request for two processes
    row = VendorToken.objects.get()
    assert first not in row.sealed_token  # stored sealed
    assert unseal(row.sealed_token, key_material=settings.ENCRYPTION_KEY) == first
    assert WeComApi(source).token() == first  # and this process uses it too

    directory_server.tokens.clear()  # the vendor forgets it (revoked, or expired early): 42001

    renewed = _token_in_another_process(source.pk, call=True)

    assert renewed != first
    assert directory_server.token_calls == 2
    assert _token_in_another_process(source.pk) == renewed
    assert directory_server.token_calls == 2

    # Shortly before the vendor's expiry the stored token is replaced before anyone uses it.
    VendorToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert WeComApi(source).token() not in (first, renewed)
    assert directory_server.token_calls == 3
    assert VendorToken.objects.get().expires_at > timezone.now() + timedelta(seconds=6000)
