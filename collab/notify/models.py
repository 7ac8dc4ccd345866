"""Notifications, the channels that carry them, and the outbox of their deliveries.

- ``Notification``: one row per person and event, shown in the app (the notification centre).
- ``RobotChannel``: a DingTalk, Feishu/Lark or WeCom group robot, bound to a department or an
  item (or to neither: a company-wide group that hears emergencies).
- ``Preference``: what one person wants besides the app (e-mail, robot mentions, the digest).
- ``Delivery``: the outbox. One row per (e-mail, notification) or (robot, event), unique, so a
  repeated event enqueues nothing; workers claim rows with a conditional UPDATE, so a row is sent
  by one worker only; a failed row waits with back-off and stays visible to admins for a resend.
"""

from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collab.audit.texts import display
from collab.notify.sealed import SealedTextField


class Urgency(models.TextChoices):
    # Contexts keep these short words apart from the same English words elsewhere.
    INSTANT = "instant", pgettext_lazy("urgency", "Instant")
    NORMAL = "normal", pgettext_lazy("urgency", "Normal")
    DIGEST = "digest", pgettext_lazy("urgency", "Daily digest")


class Notification(models.Model):
    # No index of its own: the (recipient, read_at, created_at) index below starts with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=64)
    # What the system says is stored untranslated in title_text/body_text (collab.audit.texts)
    # and rendered for the reader: the page in the viewer's language, e-mail and IM messages in
    # the recipient's. title/body keep the text rendered in the recipient's language when the
    # notification was made: the admin's view and all that rows older than the *_text columns have.
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("message"), blank=True)
    title_text = models.JSONField(null=True, blank=True)
    body_text = models.JSONField(null=True, blank=True)
    url = models.CharField(max_length=500, blank=True)
    item = models.ForeignKey(
        "requests_app.CollaborationItem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # Idempotency: the same event for the same person is stored once. "<event>:<user id>".
    # Unique by a constraint (see Meta), not ``unique=True``: on PostgreSQL that adds a second,
    # pattern-ops index for LIKE that nothing uses and every notification written pays for.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    # The urgency for this person: a routine matter is "digest" only for people who take
    # routine matters in the daily digest; for the others it is "normal" and e-mailed at once.
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set by the daily digest once the notification went out in it.
    digested_at = models.DateTimeField(_("sent in the digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"]),
            # The digest reads "this person's undigested routine notifications since X".
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(urgency="digest", digested_at=None),
                name="notify_notification_undigested",
            ),
        ]
        constraints = [
            # The name PostgreSQL gave the column's UNIQUE (migration 0006 kept that index).
            models.UniqueConstraint(fields=["dedupe_key"], name="notify_notification_dedupe_key_key"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the active language (or as rendered when made, for older rows)."""
        return display(self.title_text, self.title)[:300]

    @property
    def display_body(self) -> str:
        return display(self.body_text, self.body)


def mask(value: str, *, keep: int = 4) -> str:
    """Shows a credential's first and last ``keep`` characters, or nothing when it is short."""
    if not value:
        return ""
    if len(value) < 3 * keep:
        return "…"
    return f"{value[:keep]}…{value[-keep:]}"


def mask_url(url: str) -> str:
    """A webhook URL as admins may see it: every query value and every long path segment masked.

    https://oapi.dingtalk.com/robot/send?access_token=abcd…wxyz
    https://open.feishu.cn/open-apis/bot/v2/hook/1a2b…9z8y
    """
    parts = urlsplit(url)
    # A token in the path (Feishu) is long; route segments (robot, send, hook, v2) are short.
    path = "/".join(mask(segment) if len(segment) >= 16 else segment for segment in parts.path.split("/"))
    query = "&".join(f"{key}={mask(value)}" for key, value in parse_qsl(parts.query, keep_blank_values=True))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else "")


class RobotChannel(models.Model):
    """A group robot. Its webhook URL and secret are credentials: never shown back in full, never logged.

    Routing (see ``services.notify``): a robot bound to an item hears that item's instant and
    normal notifications; a robot bound to a department hears those addressed to its people; a
    robot bound to neither is the company-wide group and hears instant ones (emergencies) only.
    Routine matters (the digest) never go to robots.
    """

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk")
        FEISHU = "feishu", _("Feishu / Lark")
        WECOM = "wecom", _("WeCom")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("The group chat's name, e.g. 测试部工作群.")
    )
    # Credentials: encrypted at rest (the URL carries the robot's token or key).
    webhook_url = SealedTextField(_("webhook URL"), max_length=1000, validators=[URLValidator()])
    secret = SealedTextField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk (starts with SEC) and Feishu robots in signature mode need it."),
    )
    keyword = models.CharField(
        _("keyword"),
        max_length=64,
        blank=True,
        help_text=_("A robot secured with a keyword accepts only messages that contain it."),
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="robot_channels",
    )
    item = models.ForeignKey(
        "requests_app.CollaborationItem",
        verbose_name=_("collaboration item"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="robot_channels",
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department=None) | Q(item=None),
                name="notify_robot_department_or_item",
                violation_error_message=_("Bind the robot to a department or to an item, not both."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def masked_webhook_url(self) -> str:
        return mask_url(self.webhook_url)

    @property
    def masked_secret(self) -> str:
        return mask(self.secret)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        parts = urlsplit(self.webhook_url or "")
        if self.webhook_url and parts.scheme not in {"http", "https"}:
            errors["webhook_url"] = ValidationError(_("Use the https:// address the robot settings show."))
        query = dict(parse_qsl(parts.query))
        if self.kind == self.Kind.WECOM and self.webhook_url and not query.get("key"):
            errors["webhook_url"] = ValidationError(
                _("A WeCom robot's address carries its key: …/cgi-bin/webhook/send?key=…")
            )
        if self.kind == self.Kind.DINGTALK and self.webhook_url and not query.get("access_token"):
            errors["webhook_url"] = ValidationError(
                _("A DingTalk robot's address carries its token: …/robot/send?access_token=…")
            )
        if self.kind == self.Kind.DINGTALK and self.secret and not self.secret.startswith("SEC"):
            errors["secret"] = ValidationError(_("A DingTalk signing secret starts with SEC."))
        if self.kind == self.Kind.WECOM and self.secret:
            errors["secret"] = ValidationError(_("WeCom robots do not sign: leave the secret empty."))
        if errors:
            raise ValidationError(errors)


class Preference(models.Model):
    """One person's choices; a person without a row gets the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(_("e-mail me"), default=True)
    im_messages = models.BooleanField(
        _("message me in DingTalk, Feishu or WeCom"),
        default=True,
        help_text=_(
            "A personal work notification from the company's app, for people linked by the directory sync."
        ),
    )
    robot_mentions = models.BooleanField(_("mention me in group robots' messages"), default=True)
    routine_digest = models.BooleanField(
        _("routine matters in the daily digest"),
        default=True,
        help_text=_("Otherwise routine matters are e-mailed one by one, at once."),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class Delivery(models.Model):
    """One message to one target: an e-mail to a person, or one post to one robot's group."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        ROBOT = "robot", _("Group robot")
        # A personal work notification: DingTalk 工作通知, a Feishu bot message, a WeCom app message.
        IM = "im", _("Personal IM message")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery status", "Pending")
        SENDING = "sending", pgettext_lazy("delivery status", "Sending")
        SENT = "sent", pgettext_lazy("delivery status", "Sent")
        FAILED = "failed", pgettext_lazy("delivery status", "Failed")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # No index of its own: the index "notify_delivery_robot_recent" (robot, last attempt) starts
    # with it.
    robot = models.ForeignKey(
        RobotChannel,
        verbose_name=_("group robot"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    # The event's idempotency key (an e-mail's is its notification's).
    event = models.CharField(_("event"), max_length=200)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    # A robot's message, rendered once in the company's language (e-mails use the notification).
    title = models.CharField(_("title"), max_length=300, blank=True)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    item = models.ForeignKey(
        "requests_app.CollaborationItem",
        verbose_name=_("collaboration item"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Users to @-mention; their IM ids and phones are read at send time, so an update counts.
    mention_user_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))  # indexed with status: see Meta
    # When the last request started: counts against a robot's rate limit, and tells a claim
    # that a crashed worker left behind (status "sending" for too long).
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Never the webhook URL, its token or the secret: errors are scrubbed before they are stored.
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A second enqueue of the same event is a no-op: the insert fails on these.
            models.UniqueConstraint(
                fields=["notification"],
                condition=Q(channel="email"),
                name="notify_delivery_one_email_per_notification",
            ),
            models.UniqueConstraint(
                fields=["notification"],
                condition=Q(channel="im"),
                name="notify_delivery_one_im_per_notification",
            ),
            models.UniqueConstraint(
                fields=["robot", "event"],
                condition=Q(channel="robot"),
                name="notify_delivery_one_post_per_robot_event",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "im"], notification__isnull=False, robot=None)
                | Q(channel="robot", robot__isnull=False, notification=None),
                name="notify_delivery_target_matches_channel",
            ),
        ]
        indexes = [
            # The sweep: status = pending (or sending, for stale claims) and next_attempt_at <= now.
            models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due"),
            # A robot's requests within the last minute (its rate limit).
            models.Index(fields=["robot", "last_attempt_at"], name="notify_delivery_robot_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk}"
