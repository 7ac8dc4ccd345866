"""DingTalk (钉钉) address book, server API of an internal application.

- Token: GET /gettoken?appkey=&appsecret= → access_token, expires_in (7200 s).
- Departments: POST /topapi/v2/department/listsub {"dept_id"} → result: the direct children
  (dept_id, name, parent_id); walked breadth-first from the root (1 = the company).
- Users: POST /topapi/v2/user/list {"dept_id", "cursor", "size"} → result.list, has_more,
  next_cursor; each user carries dept_id_list and ``leader`` (manager of this department).
- Codes: 40014/42001 token invalid/expired; 88 + 90018 and 90002 request limits.
"""

from typing import Any

from collab.org.sync.connectors.base import VendorApi
from collab.org.sync.snapshot import Snapshot, SourceDepartment, SourceUser

PAGE_SIZE = 100


class DingTalkApi(VendorApi):
    default_base_url = "https://oapi.dingtalk.com"
    token_error_codes = frozenset({40014, 42001})
    rate_limit_codes = frozenset({90018, 90002, 88})

    def fetch_token(self) -> tuple[str, int]:
        return self.token_from(
            "GET",
            "/gettoken",
            reply_field="access_token",
            expiry_field="expires_in",
            appkey=self.app_id,
            appsecret=self.app_secret,
        )


def fetch(api: DingTalkApi, root: str) -> Snapshot:
    root = root or "1"
    departments: list[SourceDepartment] = []
    queue = [root]
    while queue:
        parent = queue.pop(0)
        reply = api.call("POST", "/topapi/v2/department/listsub", body={"dept_id": int(parent)})
        for row in reply.get("result") or []:
            dept_id = str(row["dept_id"])
            departments.append(
                SourceDepartment(
                    id=dept_id, name=str(row["name"]), parent_id="" if parent == root else parent
                )
            )
            queue.append(dept_id)
    users: dict[str, SourceUser] = {}
    heads: dict[str, list[str]] = {}
    for dept_id in [root] + [d.id for d in departments]:
        cursor = 0
        while True:
            reply = api.call(
                "POST",
                "/topapi/v2/user/list",
                body={"dept_id": int(dept_id), "cursor": cursor, "size": PAGE_SIZE},
            )
            result: dict[str, Any] = reply.get("result") or {}
            for row in result.get("list") or []:
                userid = str(row["userid"])
                if row.get("leader") and dept_id != root:
                    heads.setdefault(dept_id, []).append(userid)
                if userid not in users:
                    users[userid] = SourceUser(
                        id=userid,
                        name=str(row.get("name", userid)),
                        department_ids=tuple(str(d) for d in row.get("dept_id_list") or [dept_id]),
                        email=str(row.get("org_email") or row.get("email") or ""),
                        phone=str(row.get("mobile") or ""),
                        position=str(row.get("title") or ""),
                    )
            if not result.get("has_more"):
                break
            cursor = int(result["next_cursor"])
    departments = [
        SourceDepartment(id=d.id, name=d.name, parent_id=d.parent_id, head_ids=tuple(heads.get(d.id, ())))
        for d in departments
    ]
    return Snapshot(departments=departments, users=list(users.values()))
