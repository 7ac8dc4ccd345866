"""Directory sync: the organisation as a DingTalk, Feishu, WeCom or LDAP source describes it.

- ``snapshot``: what a connector returns (departments keyed by the source's ID, users by theirs).
- ``engine``: the source-neutral diff and its application, in one transaction.
- ``connectors``: one module per vendor, each turning the vendor's API into a snapshot.
"""
