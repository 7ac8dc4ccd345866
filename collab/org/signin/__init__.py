"""Signing in with the company account: OpenID Connect, DingTalk/Feishu/WeCom QR login, LDAP bind.

Local accounts keep working; an admin may require the company account for everyone but
themselves (``SignInPolicy``). People who sign in with the company account sign acceptance forms
with a personal signing PIN (``pin``), since they have no password here to type again.
"""
