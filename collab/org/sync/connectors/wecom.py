"""WeCom (企业微信) address book, with the address-book or an application's secret.

- Token: GET /cgi-bin/gettoken?corpid=&corpsecret= → access_token, expires_in (7200 s).
- Departments: GET /cgi-bin/department/list?id=<root> → the root and its whole subtree (id,
  name, parentid, department_leader); root 1 = the company.
- Users: GET /cgi-bin/user/list?department_id=… → userlist of the department's direct members
  (WeCom does not paginate this call), with ``status`` (1 active, 4 not yet activated; 2
  disabled and 5 left are left out).
- Codes: 40014/42001 token invalid/expired; 45009 request limit.
"""

from collab.org.sync.connectors.base import VendorApi
from collab.org.sync.snapshot import Snapshot, SourceDepartment, SourceUser

GONE_STATUSES = {2, 5}


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
    users: dict[str, SourceUser] = {}
    for dept_id in [root] + [d.id for d in departments]:
        listed = api.call("GET", "/cgi-bin/user/list", query={"department_id": dept_id})
        for row in listed.get("userlist") or []:
            userid = str(row["userid"])
            if int(row.get("status", 1)) in GONE_STATUSES or userid in users:
                continue
            users[userid] = SourceUser(
                id=userid,
                name=str(row.get("name") or userid),
                department_ids=tuple(str(d) for d in row.get("department") or [dept_id]),
                email=str(row.get("biz_mail") or row.get("email") or ""),
                phone=str(row.get("mobile") or ""),
                position=str(row.get("position") or ""),
            )
    return Snapshot(departments=departments, users=list(users.values()))
