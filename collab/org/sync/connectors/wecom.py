"""WeCom (企业微信) address book, with the address-book or an application's secret.

- Token: GET /cgi-bin/gettoken?corpid=&corpsecret= → access_token, expires_in (7200 s).
- Departments: GET /cgi-bin/department/list?id=<root> → the root and its whole subtree (id,
  name, parentid, department_leader); root 1 = the company.
- Who is in the company: POST /cgi-bin/user/list_id {"cursor", "limit"} → ``dept_user`` (one
  row per user and department) and ``next_cursor``, empty on the last page ("获取成员ID列表"; the
  address-book sync secret may call it). Every page is read; only departments of the tree count.
- Their details: GET /cgi-bin/user/list?department_id=… → userlist of a department's direct
  members (WeCom does not page this one), with ``status`` (1 active, 4 not yet activated; 2
  disabled and 5 left are left out); a member it did not list is read by GET /cgi-bin/user/get.
- Codes: 40014/42001 token invalid/expired; 45009 request limit.
"""

from typing import Any

from django.utils.translation import gettext as _

from collab.org.sync.connectors.base import VendorApi
from collab.org.sync.snapshot import DirectoryError, Snapshot, SourceDepartment, SourceUser

GONE_STATUSES = {2, 5}
# user/list_id's largest page (its ``limit`` runs from 1 to 10,000).
PAGE_LIMIT = 10_000


class WeComApi(VendorApi):
    default_base_url = "https://qyapi.weixin.qq.com"
    token_error_codes = frozenset({40014, 42001})
    rate_limit_codes = frozenset({45009})

    def fetch_token(self) -> tuple[str, int]:
        return self.token_from(
            "GET",
            "/cgi-bin/gettoken",
            reply_field="access_token",
            expiry_field="expires_in",
            corpid=self.app_id,
            corpsecret=self.app_secret,
        )


def fetch(api: WeComApi, root: str) -> Snapshot:
    root = root or "1"
    reply = api.call("GET", "/cgi-bin/department/list", query={"id": root})
    departments = [
        SourceDepartment(
            id=str(row["id"]),
            name=str(row["name"]),
            parent_id="" if str(row.get("parentid")) == root else str(row.get("parentid", "")),
            head_ids=tuple(str(u) for u in row.get("department_leader") or []),
        )
        for row in reply.get("department") or []
        if str(row["id"]) != root
    ]
    in_tree = {root} | {d.id for d in departments}
    members = member_departments(api, in_tree)
    details: dict[str, dict[str, Any]] = {}
    for dept_id in [root] + [d.id for d in departments]:
        if not any(dept_id in depts for depts in members.values()):
            continue
        listed = api.call("GET", "/cgi-bin/user/list", query={"department_id": dept_id})
        for row in listed.get("userlist") or []:
            details.setdefault(str(row["userid"]), row)
    users: list[SourceUser] = []
    for userid, depts in members.items():
        row = details.get(userid)
        if row is None:
            row = api.call("GET", "/cgi-bin/user/get", query={"userid": userid})
        if int(row.get("status", 1)) in GONE_STATUSES:
            continue
        listed_in = [str(d) for d in row.get("department") or [] if str(d) in in_tree]
        users.append(
            SourceUser(
                id=userid,
                name=str(row.get("name") or userid),
                department_ids=tuple(listed_in or depts),
                email=str(row.get("biz_mail") or row.get("email") or ""),
                phone=str(row.get("mobile") or ""),
                position=str(row.get("position") or ""),
            )
        )
    return Snapshot(departments=departments, users=users)


def member_departments(api: WeComApi, in_tree: set[str]) -> dict[str, list[str]]:
    """Every member of the tree's departments with their departments there, in the order listed,
    read page by page with WeCom's cursor until it answers an empty one."""
    members: dict[str, list[str]] = {}
    cursor = ""
    seen: set[str] = set()
    while True:
        body: dict[str, Any] = {"limit": PAGE_LIMIT}
        if cursor:
            body["cursor"] = cursor
        reply = api.call("POST", "/cgi-bin/user/list_id", body=body)
        for row in reply.get("dept_user") or []:
            dept = str(row.get("department", ""))
            if dept in in_tree:
                depts = members.setdefault(str(row["userid"]), [])
                if dept not in depts:
                    depts.append(dept)
        cursor = str(reply.get("next_cursor") or "")
        if not cursor:
            return members
        if cursor in seen:
            raise DirectoryError(_("WeCom repeated a page of its member list; try again later."))
        seen.add(cursor)
