"""One connector per kind of directory: each reads the whole directory into a ``Snapshot``."""

from collab.org.models import DirectorySource
from collab.org.sync.connectors import dingtalk, feishu, ldap, wecom
from collab.org.sync.snapshot import Snapshot


def fetch_snapshot(source: DirectorySource) -> Snapshot:
    """Reads the source's departments and people; raises ``DirectoryError`` with a safe message."""
    root = source.root_department_id.strip()
    if source.kind == DirectorySource.Kind.DINGTALK:
        return dingtalk.fetch(dingtalk.DingTalkApi(source), root)
    if source.kind == DirectorySource.Kind.FEISHU:
        return feishu.fetch(feishu.FeishuApi(source), root)
    if source.kind == DirectorySource.Kind.WECOM:
        return wecom.fetch(wecom.WeComApi(source), root)
    return ldap.fetch(source)
