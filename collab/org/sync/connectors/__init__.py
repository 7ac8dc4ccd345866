"""One connector per kind of directory: each reads the whole directory into a ``Snapshot``."""

from django.utils.translation import gettext as _

from collab.org.models import DirectorySource
from collab.org.sync.connectors import dingtalk, feishu, ldap, wecom
from collab.org.sync.snapshot import DirectoryError, Snapshot


def fetch_snapshot(source: DirectorySource) -> Snapshot:
    """Reads the source's departments and people; raises ``DirectoryError`` with a safe message."""
    root = source.root_department_id.strip()
    if source.kind == DirectorySource.Kind.DINGTALK:
        return dingtalk.fetch(dingtalk.DingTalkApi(source), root)
    if source.kind == DirectorySource.Kind.FEISHU:
        return feishu.fetch(feishu.FeishuApi(source), root)
    if source.kind == DirectorySource.Kind.WECOM:
        return wecom.fetch(wecom.WeComApi(source), root)
    if source.kind == DirectorySource.Kind.LDAP:
        return ldap.fetch(source)
    raise DirectoryError(_("An Excel source is imported from a workbook: upload one on its page."))
