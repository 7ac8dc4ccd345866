"""Departments, regions and people: who works where, who heads what, in which time zone.

Each department owns a Django auth group whose members are its people and its head. Object
permissions on collaboration items are granted to those groups, so a person who moves
department sees the new department's items at once, without touching any item.
"""

import uuid
from datetime import time
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from collab.lib.secretbox import unseal


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone, e.g. Asia/Shanghai."), params={"value": value}
        )


def validate_work_week(value: str) -> None:
    if not value or not set(value) <= set("1234567") or len(set(value)) != len(value):
        raise ValidationError(
            _("Choose at least one working weekday."), params={"value": value}, code="work_week"
        )


def work_week_days(value: str) -> frozenset[int]:
    """The stored ISO digits as Python weekdays (0 = Monday)."""
    return frozenset(int(digit) - 1 for digit in value)


def nine_o_clock() -> time:
    return time(9)


def noon() -> time:
    return time(12)


def one_o_clock() -> time:
    return time(13)


def six_o_clock() -> time:
    return time(18)


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    holiday_calendar = models.CharField(
        _("holiday calendar"),
        max_length=8,
        default="CN",
        help_text=_("ISO country code of the public holiday calendar, e.g. CN, HK, SG, DE."),
    )
    # The working hours of a working day, in the region's time zone: deadlines in working hours
    # count only this time, and reviews "within one working day" end at the same wall-clock time.
    # The defaults are functions: Django warns of a fixed time default (fields.W161) whenever the
    # clock is within ten seconds of it, which failed `check --deploy` at 18:00 UTC.
    workday_start = models.TimeField(_("working day starts"), default=nine_o_clock)
    lunch_start = models.TimeField(_("lunch break starts"), default=noon)
    lunch_end = models.TimeField(_("lunch break ends"), default=one_o_clock)
    workday_end = models.TimeField(_("working day ends"), default=six_o_clock)
    # The weekdays its offices work, as ISO digits (1 = Monday … 7 = Sunday): "12345" is Monday
    # to Friday. A day outside it is off unless the official schedule makes it a make-up workday.
    work_week = models.CharField(
        _("work week"), max_length=7, default="12345", validators=[validate_work_week]
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CalendarOverride(models.Model):
    """A company decision about one date: an extra day off or an extra workday.

    It wins over the official holiday calendar. Without a region it applies to every region
    (and to the company default calendar); a region's own override wins over a company-wide one
    on the same date.
    """

    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_overrides",
        help_text=_("Leave empty for a company-wide override that applies to every region."),
    )
    date = models.DateField(_("date"))
    is_workday = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Checked: an extra working day. Unchecked: an extra day off."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["region", "date"], name="org_override_unique_region_date"),
            # NULLs are distinct in a unique constraint, so company-wide dates need their own.
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(region=None), name="org_override_unique_company_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.region or _('Company-wide')}"


class DepartmentQuerySet(models.QuerySet["Department"]):
    def active(self) -> "DepartmentQuerySet":
        """The departments pickers and filters offer: not removed at the source."""
        return self.filter(active=True)


class Department(models.Model):
    # Unique among its siblings only: real companies have "综合部" under several branches.
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("department head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL
    )
    confirmation_delegates = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmation delegates"),
        blank=True,
        related_name="delegated_departments",
        help_text=_(
            "People who may confirm meeting minutes in writing for this department besides its head."
        ),
    )
    group = models.OneToOneField(Group, editable=False, on_delete=models.PROTECT)
    # Set by a directory sync: the department is the source's department with this ID, whatever
    # its name; an unlinked department is managed by hand.
    source = models.ForeignKey(
        "org.DirectorySource",
        verbose_name=_("directory source"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="departments",
    )
    external_id = models.CharField(_("ID in the source"), max_length=128, blank=True, editable=False)
    # A department the source no longer has is deactivated, never deleted: items, tasks and the
    # register keep naming it, but pickers and filters no longer offer it.
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "Unchecked: kept on past items and the register, no longer offered in pickers and filters."
        ),
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="org_department_unique_sibling_name"),
            # NULLs are distinct in a unique constraint, so top-level departments need their own.
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent=None), name="org_department_unique_top_name"
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="org_department_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        previous_head_id = None
        if self.pk:
            previous_head_id = Department.objects.filter(pk=self.pk).values_list("head_id", flat=True).first()
        with transaction.atomic():
            group_name = self._group_name()
            if self.group_id is None:
                self.group = Group.objects.create(name=group_name)
            else:
                Group.objects.filter(pk=self.group_id).update(name=group_name)
            super().save(*args, **kwargs)
            # The head belongs to the department's group even when filed under another one.
            for user_id in {previous_head_id, self.head_id}:
                if user_id is not None:
                    sync_department_groups(user_id)

    def _group_name(self) -> str:
        """``department:<name>``, with the parent's name when a same-named department has it already.

        Group names are unique while department names are unique among siblings only, so
        "综合部" under two branches becomes ``department:北京分公司/综合部``.
        """
        candidates = [f"department:{self.name}"]
        if self.parent is not None:
            candidates.append(f"department:{self.parent.name}/{self.name}")
        taken = Group.objects.filter(name__in=candidates)
        if self.group_id is not None:
            taken = taken.exclude(pk=self.group_id)
        used = set(taken.values_list("name", flat=True))
        for candidate in candidates:
            if candidate not in used:
                return candidate[:150]
        return f"department:{self.name}#{uuid.uuid4().hex[:8]}"[:150]

    def may_confirm_for(self, user: Any) -> bool:
        """Whether ``user`` may confirm minutes in writing on behalf of this department."""
        return self.head_id == user.pk or self.confirmation_delegates.filter(pk=user.pk).exists()

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A department cannot be its own ancestor.")})
            ancestor = ancestor.parent


class Person(models.Model):
    """The profile of a user: where they work and how to reach them."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    dingtalk_id = models.CharField(_("DingTalk user ID"), max_length=64, blank=True)
    feishu_id = models.CharField(_("Feishu user ID"), max_length=64, blank=True)
    wecom_id = models.CharField(_("WeCom user ID"), max_length=64, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=Language.choices,
        default=Language.ZH_HANS,
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL
    )
    # A PIN that signs acceptance forms for people without a password here (they sign in with the
    # company account): hashed like a password, never stored in clear.
    signing_pin = models.CharField(_("signing PIN"), max_length=128, blank=True, editable=False)
    # Set by a directory sync: the person is the source's user with this ID.
    source = models.ForeignKey(
        "org.DirectorySource",
        verbose_name=_("directory source"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    source_user_id = models.CharField(_("user ID in the source"), max_length=128, blank=True, editable=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_user_id"],
                condition=~models.Q(source_user_id=""),
                name="org_person_unique_source_user",
            )
        ]

    def __str__(self) -> str:
        return display_name(self.user)

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            sync_department_groups(self.user_id)


def display_name(user: object) -> str:
    """A person's name as colleagues write it: the full name, else the login name."""
    return name_of(
        getattr(user, "first_name", ""), getattr(user, "last_name", ""), getattr(user, "username", "")
    )


def name_of(first: str | None, last: str | None, username: str | None) -> str:
    """``display_name`` from the three columns (rows read as values, without a user instance)."""
    first, last = str(first or ""), str(last or "")
    # Chinese names are written family name first, without a space: 张伟
    full = f"{first} {last}".strip() if (first + last).isascii() else f"{last}{first}".strip()
    return full or str(username or "")


def sync_department_groups(user_id: int) -> None:
    """Makes the user's department groups exactly: their own department plus those they head."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    wanted = set(Department.objects.filter(head_id=user_id).values_list("group_id", flat=True))
    own = Person.objects.filter(user_id=user_id).values_list("department__group_id", flat=True)
    wanted |= {gid for gid in own if gid is not None}
    current = set(user.groups.filter(department__isnull=False).values_list("pk", flat=True))
    if current - wanted:
        user.groups.remove(*(current - wanted))
    if wanted - current:
        user.groups.add(*(wanted - current))


class DirectorySource(models.Model):
    """Where the organisation comes from: DingTalk, Feishu/Lark, WeCom or LDAP/Active Directory.

    The secret (app secret, corp secret, bind password) is stored sealed with the project's
    encryption key (``collab.lib.secretbox``) and never shown back.
    """

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk")
        FEISHU = "feishu", _("Feishu / Lark")
        WECOM = "wecom", _("WeCom")
        LDAP = "ldap", _("LDAP / Active Directory")
        EXCEL = "excel", _("Excel workbook")
        OIDC = "oidc", _("OpenID Connect (Keycloak, Azure AD, Authing)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, unique=True)
    base_url = models.CharField(
        _("server address"),
        max_length=300,
        blank=True,
        help_text=_(
            "Leave empty for the vendor's public API. For LDAP: ldap://host:389 or ldaps://host:636."
        ),
    )
    app_id = models.CharField(
        _("application ID"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk AppKey, Feishu App ID, WeCom corp ID, or the LDAP bind DN."),
    )
    sealed_secret = models.TextField(_("secret (encrypted)"), blank=True, editable=False)
    agent_id = models.CharField(
        _("AgentId"),
        max_length=64,
        blank=True,
        help_text=_(
            "DingTalk and WeCom: the application's AgentId, for personal work notifications. Feishu needs "
            "none (the app's bot sends them)."
        ),
    )
    root_department_id = models.CharField(
        _("root department ID"),
        max_length=200,
        blank=True,
        help_text=_(
            "Where the tree starts: DingTalk 1, Feishu 0, WeCom 1 when empty; for LDAP the base DN of the "
            "departments (organizational units)."
        ),
    )
    user_base = models.CharField(
        _("LDAP base DN of people"),
        max_length=300,
        blank=True,
        help_text=_("LDAP only: where the people entries are, e.g. ou=people,dc=example,dc=com."),
    )
    scheduled = models.BooleanField(
        _("sync every night"), default=True, help_text=_("Unchecked: the sync runs only on demand.")
    )
    sign_in = models.BooleanField(
        _("sign in with this account"),
        default=False,
        help_text=_(
            "People sign in with their company account: DingTalk, Feishu or WeCom by QR code, OpenID Connect "
            "at the provider (the server address is the issuer), LDAP with their directory password."
        ),
    )
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("directory source")
        verbose_name_plural = _("directory sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One preview or application of a directory sync, with its diff as shown to the admin."""

    source = models.ForeignKey(
        DirectorySource, verbose_name=_("directory source"), on_delete=models.CASCADE, related_name="runs"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied = models.BooleanField(_("applied"), default=False)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    # The diff: {"changes": [{"action": ..., "kind": ..., "external_id": ..., "name": ..., ...}]}
    diff = models.JSONField(_("changes"), default=dict)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"


def source_secret(source: DirectorySource) -> str:
    """The source's secret in clear, for the connector about to call the vendor; never for display."""
    return unseal(
        source.sealed_secret,
        key_material=settings.ENCRYPTION_KEY,
        fallbacks=settings.ENCRYPTION_KEY_FALLBACKS,
    )


class VendorToken(models.Model):
    """A vendor's access token, shared by every web process and worker (see ``VendorApi.token``).

    A table rather than a cache: the product runs without Redis by default, and a per-process
    cache would ask the vendor for a token in every process, against its daily token quota.
    """

    # "directory-token:<kind>:<fingerprint of address, app ID and secret>"
    key = models.CharField(max_length=200, unique=True)
    sealed_token = models.TextField()
    # When to stop using it: the vendor's expiry less a margin.
    expires_at = models.DateTimeField()
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = _("vendor access token")
        verbose_name_plural = _("vendor access tokens")

    def __str__(self) -> str:
        return self.key


class Throttle(models.Model):
    """Failed password attempts of one account or one address (see ``collab.org.throttle``).

    A table rather than a cache: the counts must be shared by every web process and host, and
    the product runs without Redis by default.
    """

    # "<action>:<account|address>:<value>", e.g. "login:account:zhang", "sign:address:10.0.0.8".
    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("failed password attempts")
        verbose_name_plural = _("failed password attempts")

    def __str__(self) -> str:
        return self.key


class ExternalIdentity(models.Model):
    """A company account that signs in as this user: an OpenID Connect subject, or a vendor user ID."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    source = models.ForeignKey(DirectorySource, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(_("subject"), max_length=255)
    last_sign_in = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("company account")
        verbose_name_plural = _("company accounts")
        constraints = [
            models.UniqueConstraint(fields=["source", "subject"], name="org_identity_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.subject}"


class SignInPolicy(models.Model):
    """One row: whether people must sign in with a company account. The admin who requires it
    keeps their password, so nobody is locked out when the provider is down."""

    require_sso = models.BooleanField(_("require the company account"), default=False)
    create_accounts = models.BooleanField(
        _("create accounts on first sign-in"),
        default=False,
        help_text=_(
            "OpenID Connect: someone the provider vouches for who has no account here gets one the first "
            "time they sign in. Unchecked: they are asked to see an admin."
        ),
    )
    exempt = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("may still use a password"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-in policy")
        verbose_name_plural = _("sign-in policy")

    def __str__(self) -> str:
        return str(_("Sign-in policy"))


class HolidayNotice(models.Model):
    """The State Council's notice of a year's holidays (mainland China), imported by an admin.

    Kept apart from the company's overrides: it stands for the official schedule of a year that
    chinesecalendar does not carry yet, and stops counting once a release carries that year.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    text = models.TextField(_("notice text"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class HolidayNoticeDay(models.Model):
    """One day the notice names: a day off of a holiday, or a make-up workday (上班)."""

    notice = models.ForeignKey(HolidayNotice, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    holiday = models.CharField(_("holiday"), max_length=32)

    class Meta:
        verbose_name = _("holiday notice day")
        verbose_name_plural = _("holiday notice days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "date"], name="org_notice_day_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"
