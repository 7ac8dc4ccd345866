"""Feishu / Lark (飞书) contact v3, as an internal (self-built) application.

- Token: POST /open-apis/auth/v3/tenant_access_token/internal {"app_id", "app_secret"} →
  tenant_access_token, expire (seconds); sent as ``Authorization: Bearer <token>``.
- Departments: GET /open-apis/contact/v3/departments/{id}/children with fetch_child=true (the
  whole subtree), department_id_type=department_id, page_size/page_token → data.items,
  has_more, page_token. Root "0". Each carries leader_user_id and leaders (user_id_type=user_id).
- Users: GET /open-apis/contact/v3/users/find_by_department?department_id=… (direct members),
  paginated the same way; status.is_resigned people are left out.
- Codes (field ``code``): 99991661/99991663/99991668 token missing/invalid/expired; 99991400
  request limit (also HTTP 429).
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from collab.org.sync.connectors.base import VendorApi
from collab.org.sync.snapshot import Snapshot, SourceDepartment, SourceUser

PAGE_SIZE = 50


class FeishuApi(VendorApi):
    default_base_url = "https://open.feishu.cn"
    token_error_codes = frozenset({99991661, 99991663, 99991668})
    rate_limit_codes = frozenset({99991400})

    def fetch_token(self) -> tuple[str, int]:
        return self.token_from(
            "POST",
            "/open-apis/auth/v3/tenant_access_token/internal",
            reply_field="tenant_access_token",
            expiry_field="expire",
            app_id=self.app_id,
            app_secret=self.app_secret,
        )

    def error_of(self, reply: dict[str, Any]) -> tuple[int, str]:
        return int(reply.get("code", 0) or 0), str(reply.get("msg", ""))

    def authorize(self, token: str, query: dict[str, Any], headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {token}"

    def pages(self, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page_token = ""
        while True:
            params = {**query, "page_size": PAGE_SIZE}
            if page_token:
                params["page_token"] = page_token
            data = self.call("GET", path, query=params).get("data") or {}
            yield from data.get("items") or []
            if not data.get("has_more"):
                return
            page_token = str(data["page_token"])


IDS = {"department_id_type": "department_id", "user_id_type": "user_id"}


def fetch(api: FeishuApi, root: str) -> Snapshot:
    root = root or "0"
    departments = []
    for row in api.pages(
        f"/open-apis/contact/v3/departments/{quote(root, safe='')}/children", {**IDS, "fetch_child": "true"}
    ):
        if (row.get("status") or {}).get("is_deleted"):
            continue
        leaders = [str(leader["leader_id"]) for leader in row.get("leaders") or [] if leader.get("leader_id")]
        if row.get("leader_user_id") and str(row["leader_user_id"]) not in leaders:
            leaders.insert(0, str(row["leader_user_id"]))
        parent = str(row.get("parent_department_id") or "")
        departments.append(
            SourceDepartment(
                id=str(row["department_id"]),
                name=str(row["name"]),
                parent_id="" if parent == root else parent,
                head_ids=tuple(leaders),
            )
        )
    users: dict[str, SourceUser] = {}
    for dept_id in [root] + [d.id for d in departments]:
        for row in api.pages(
            "/open-apis/contact/v3/users/find_by_department", {**IDS, "department_id": dept_id}
        ):
            if (row.get("status") or {}).get("is_resigned") or str(row["user_id"]) in users:
                continue
            users[str(row["user_id"])] = SourceUser(
                id=str(row["user_id"]),
                name=str(row.get("name") or row["user_id"]),
                department_ids=tuple(str(d) for d in row.get("department_ids") or [dept_id]),
                email=str(row.get("enterprise_email") or row.get("email") or ""),
                phone=str(row.get("mobile") or ""),
                position=str(row.get("job_title") or ""),
            )
    return Snapshot(departments=departments, users=list(users.values()))
