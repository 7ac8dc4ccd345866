"""LDAP sync against a real OpenLDAP server (Debian's slapd), started in a temporary folder."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from collab.movein import services
from collab.org.models import Department, DirectorySource, Person, display_name
from collab.org.signin.policy import sign_in_policy_set
from conftest import require_service

pytestmark = pytest.mark.django_db

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=com"
ADMIN = f"cn=admin,{SUFFIX}"
PASSWORD = "ldap-admin-password"
CONFIG = """
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {tmp}/slapd.pid
database mdb
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {tmp}/db
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_service(
        "slapd (apt-get install slapd)", Path(SLAPD).exists() and Path("/etc/ldap/schema").exists()
    )
    tmp = tmp_path_factory.mktemp("slapd")
    (tmp / "db").mkdir()
    (tmp / "slapd.conf").write_text(CONFIG.format(tmp=tmp, suffix=SUFFIX, admin=ADMIN, password=PASSWORD))
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 (a fixed command line)
        [SLAPD, "-f", str(tmp / "slapd.conf"), "-h", f"{url}/", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def people(name: str) -> str:
    return f"ou={name},ou=departments,{SUFFIX}"


@pytest.fixture
def directory(slapd: str) -> Iterator[ldap3.Connection]:
    connection = ldap3.Connection(ldap3.Server(slapd), ADMIN, PASSWORD, auto_bind=True)
    connection.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
    connection.add(f"ou=departments,{SUFFIX}", "organizationalUnit", {"ou": "departments"})
    for dn in [
        people("北京分公司"),
        f"ou=综合部,{people('北京分公司')}",
        people("上海分公司"),
        f"ou=综合部,{people('上海分公司')}",
    ]:
        connection.add(dn, "organizationalUnit", {"ou": dn.split(",")[0][3:]})

    def person(uid: str, name: str, unit: str, manager: str = "", **extra: Any) -> None:
        attributes = {
            "uid": uid,
            "cn": name,
            "sn": name[:1],
            "displayName": name,
            "mail": f"{uid}@example.com",
            **extra,
        }
        if manager:
            attributes["manager"] = manager
        assert connection.add(f"uid={uid},{unit}", "inetOrgPerson", attributes), connection.result

    beijing_office = f"ou=综合部,{people('北京分公司')}"
    person("zhang", "张敏", people("北京分公司"), title="总经理")
    person("li", "李雷", beijing_office, manager=f"uid=zhang,{people('北京分公司')}")
    person("han", "韩梅梅", beijing_office, manager=f"uid=li,{beijing_office}")
    person("zhao", "赵强", beijing_office, manager=f"uid=li,{beijing_office}")
    yield connection
    # Empty the tree for the next test: leaves first.
    connection.search(SUFFIX, "(objectClass=*)", attributes=[])
    for entry in sorted(connection.entries, key=lambda e: -len(e.entry_dn)):
        connection.delete(entry.entry_dn)
    connection.unbind()


def test_an_ldap_directory_syncs_with_heads_from_manager_attributes(
    slapd: str, directory: ldap3.Connection
) -> None:
    source = DirectorySource.objects.create(
        kind="ldap", name="AD", base_url=slapd, app_id=ADMIN, root_department_id=f"ou=departments,{SUFFIX}"
    )
    services.directory_source_set_secret(actor=None, source=source, secret=PASSWORD)

    run = services.directory_apply(source=source)

    assert {(c["action"], c["name"]) for c in run.diff["changes"] if c["kind"] == "department"} >= {
        ("added", "综合部"),
        ("added", "北京分公司"),
        ("added", "上海分公司"),
    }
    assert Department.objects.filter(name="综合部").count() == 2
    office = Department.objects.get(name="综合部", parent__name="北京分公司")
    assert office.head is not None and display_name(office.head) == "李雷"
    han = Person.objects.select_related("user").get(user__username="han")
    assert han.department == office
    assert han.user.email == "han@example.com"

    # A renamed OU keeps its identity (entryUUID); a deleted account leaves.
    directory.modify_dn(f"ou=综合部,{people('上海分公司')}", "ou=行政部")
    directory.delete(f"uid=zhao,ou=综合部,{people('北京分公司')}")
    second = services.directory_apply(source=source)

    assert {(c["action"], c["name"]) for c in second.diff["changes"]} == {
        ("renamed", "行政部"),
        ("left", "赵强"),
    }


def test_a_wrong_bind_password_changes_nothing(slapd: str, directory: ldap3.Connection) -> None:
    source = DirectorySource.objects.create(
        kind="ldap", name="AD", base_url=slapd, app_id=ADMIN, root_department_id=f"ou=departments,{SUFFIX}"
    )
    services.directory_source_set_secret(actor=None, source=source, secret="wrong")

    with pytest.raises(services.DirectoryError, match=r"invalidCredentials|LDAP"):
        services.directory_preview(source=source)
    assert not Department.objects.exists()


def test_people_sign_in_with_their_directory_password(slapd: str, directory: ldap3.Connection) -> None:
    source = DirectorySource.objects.create(
        kind="ldap",
        name="AD",
        base_url=slapd,
        app_id=ADMIN,
        root_department_id=f"ou=departments,{SUFFIX}",
        sign_in=True,
    )
    services.directory_source_set_secret(actor=None, source=source, secret=PASSWORD)
    services.directory_apply(source=source)
    directory.modify(
        f"uid=han,ou=综合部,{people('北京分公司')}",
        {"userPassword": [(ldap3.MODIFY_REPLACE, ["han-ldap-pass"])]},
    )
    # The sign-in policy may require the company account: the directory password is one.
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "boss-pass")
    sign_in_policy_set(actor=admin, require_sso=True)

    wrong = Client().post("/accounts/login/", {"username": "han", "password": "not-it"})
    client = Client()
    right = client.post("/accounts/login/", {"username": "han", "password": "han-ldap-pass"})

    assert wrong.status_code == 200
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(Person.objects.get(user__username="han").user_id)
    assert not Person.objects.get(user__username="han").user.has_usable_password()
