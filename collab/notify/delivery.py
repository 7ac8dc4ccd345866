"""Sending the outbox: claim a due delivery, send it, record the outcome. Safe with many workers.

The states of a ``Delivery``: pending → sending → sent, or back to pending with back-off after a
failure, or failed after the last attempt (visible in the admin, where "resend" makes it pending
again). A worker claims a row with a conditional UPDATE (pending → sending); only the worker that
updated the row sends it. A row left "sending" by a crashed worker is released by the sweep once
its claim is older than the sending timeout.

Settings, read with defaults so nothing breaks before they are added:
``COLLAB_DELIVERY_MAX_ATTEMPTS`` (10), ``COLLAB_DELIVERY_BACKOFF_CAP_MINUTES`` (60),
``COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS`` (120), ``COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE`` (20),
``COLLAB_ROBOT_TIMEOUT_SECONDS`` (10).

What is guaranteed: every message is sent at least once, and once in the normal course. Twice
only when a worker dies (killed, out of memory, power cut) after the vendor took the message and
before the row says "sent": the claim (a lease of ``SENDING_TIMEOUT``) then runs out and another
worker sends it again. That window is kept small:

- the row is marked sent in the statement right after the vendor's answer, nothing in between;
- a request's timeout (robot post or personal message) is at most a third of the lease, so a
  live, slow request always ends before its lease: a lease runs out only when its worker is
  gone, never under a worker that is still waiting for the vendor (which would make two workers
  send at once);
- the lease is two minutes (SMTP's own timeout, ``COLLAB_SMTP_TIMEOUT_SECONDS``, is 30 s), so a
  dead worker's message is retaken within about three minutes.

The group robots get no idempotency key: the custom-robot webhooks of DingTalk, Feishu/Lark and
WeCom accept none, so a group would see a repeated message again. The personal messages carry
the vendor's where it has one (Feishu's ``uuid``, WeCom's duplicate check; DingTalk's work notice
has none): the vendor drops the repeat. collab/notify/tests/test_killed_worker.py kills a real
worker while a slow vendor answers and counts the copies.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Case, F, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab.notify.models import Delivery, RobotChannel, Urgency
from collab.notify.personal import PersonalMessage, personal_send
from collab.notify.robots import Mention, RobotError, RobotMessage, robot_send
from collab.org.models import Person, display_name
from collab.org.sync.snapshot import DirectoryError
from collab.queueing import enqueue_after_commit

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)


def max_attempts() -> int:
    return int(getattr(settings, "COLLAB_DELIVERY_MAX_ATTEMPTS", 10))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, capped."""
    cap = int(getattr(settings, "COLLAB_DELIVERY_BACKOFF_CAP_MINUTES", 60))
    return timedelta(minutes=min(cap, 2 ** max(attempts - 1, 0)))


def sending_timeout() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "COLLAB_DELIVERY_SENDING_TIMEOUT_SECONDS", 120)))


def robot_rate_limit() -> int:
    return int(getattr(settings, "COLLAB_ROBOT_RATE_LIMIT_PER_MINUTE", 20))


def robot_timeout() -> float:
    """The HTTP timeout of a robot post or a personal message, at most a third of the lease (see
    the module's docstring)."""
    configured = float(getattr(settings, "COLLAB_ROBOT_TIMEOUT_SECONDS", 10))
    return min(configured, sending_timeout().total_seconds() / 3)


def absolute_url(url: str) -> str:
    return f"{settings.COLLAB_BASE_URL}{url or '/'}"


class PermanentError(Exception):
    """Retrying cannot help (no address, a switched-off robot): the delivery fails at once."""


def delivery_attempt(*, delivery_id: int) -> str:
    """Sends one delivery if it is due and nobody else has it. Returns what happened:
    "sent", "retry", "failed", "deferred" (a robot's rate limit) or "skipped".

    1. Claim: a due pending row becomes "sending", one more attempt, in a conditional UPDATE.
       For a robot the claim happens while holding the robot's row, and only when the robot
       took fewer requests than its limit in the last minute; otherwise the row is deferred to
       when a slot frees, without counting an attempt.
    2. Send, outside any transaction: a slow vendor holds no lock. Signing happens here.
    3. Record: sent; or pending again after back-off; or failed after the last attempt.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.filter(pk=delivery_id).only("status", "next_attempt_at", "robot_id").first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING or delivery.next_attempt_at > now:
            return "skipped"
        if delivery.robot_id is not None:
            # The robot's row lock serialises claims for one robot, so the count below cannot
            # be read by two workers at once (on SQLite the IMMEDIATE transaction does that).
            RobotChannel.objects.select_for_update(no_key=True).filter(pk=delivery.robot_id).first()
            free_at = _rate_limited_until(delivery.robot_id, now)
            if free_at is not None:
                Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
                    next_attempt_at=free_at
                )
                return "deferred"
        claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
        )
    # Our claim: the row is ours while it is "sending" with this claim time.
    ours = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING, last_attempt_at=now)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("robot", "notification__recipient").get(pk=delivery_id)
    try:
        if delivery.channel == Delivery.Channel.EMAIL:
            _send_email(delivery)
        elif delivery.channel == Delivery.Channel.IM:
            _send_im(delivery)
        else:
            _send_robot(delivery)
    except PermanentError as exc:
        return _record_failure(delivery, str(exc), permanent=True)
    except (RobotError, DirectoryError) as exc:
        return _record_failure(delivery, str(exc))
    except OSError as exc:  # SMTP errors and refused connections of the mail server
        return _record_failure(delivery, f"{type(exc).__name__}: {exc}")
    # Right after the vendor's answer, before anything else (the duplicate window).
    ours.update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def _rate_limited_until(robot_id: int, now: datetime) -> datetime | None:
    """When the robot may take another request, or None when it may now. Every claim of the
    last minute counts as a request, whatever its outcome."""
    limit = robot_rate_limit()
    if limit <= 0:
        return None  # no limit configured
    recent = list(
        Delivery.objects.filter(robot_id=robot_id, last_attempt_at__gt=now - RATE_WINDOW)
        .order_by("last_attempt_at")
        .values_list("last_attempt_at", flat=True)
    )
    if len(recent) < limit:
        return None
    # The slot frees when the oldest request that keeps the count at the limit leaves the window.
    oldest = recent[len(recent) - limit]
    assert oldest is not None  # noqa: S101 - filtered on last_attempt_at above; for mypy
    return oldest + RATE_WINDOW


def _record_failure(delivery: Delivery, error: str, *, permanent: bool = False) -> str:
    attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    sending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
    logger.warning(
        "Delivery %s (%s) failed on attempt %s: %s", delivery.pk, delivery.channel, attempts, error
    )
    if permanent or attempts >= max_attempts():
        sending.update(status=Delivery.Status.FAILED, last_error=error)
        return "failed"
    sending.update(
        status=Delivery.Status.PENDING,
        last_error=error,
        next_attempt_at=timezone.now() + backoff(attempts),
    )
    return "retry"


def _send_email(delivery: Delivery) -> None:
    notification = delivery.notification
    assert notification is not None  # noqa: S101 - the check constraint on Delivery; for mypy
    user = notification.recipient
    if not user.email:
        raise PermanentError(_("The person has no e-mail address."))
    person = Person.objects.filter(user_id=user.pk).first()
    language = person.language if person is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        # Rendered now, in the language the person reads today (their preference may have
        # changed since the notification was made).
        context = {
            "title": notification.display_title,
            "body": notification.display_body,
            "link": absolute_url(notification.url),
            "settings_link": absolute_url(reverse("notify:preferences")),
            "name": display_name(user),
            "language": language,
        }
        subject = " ".join(render_to_string("notify/email/subject.txt", context).split())
        text = render_to_string("notify/email/body.txt", context)
        html = render_to_string("notify/email/body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


def _send_im(delivery: Delivery) -> None:
    notification = delivery.notification
    assert notification is not None  # noqa: S101 - the check constraint on Delivery; for mypy
    person = Person.objects.select_related("source").filter(user_id=notification.recipient_id).first()
    if person is None or person.source is None or not notification.recipient.is_active:
        raise PermanentError(_("The person is not linked to DingTalk, Feishu or WeCom."))
    with translation.override(person.language):
        link_text = _("Open")
        title, body = notification.display_title, notification.display_body
    personal_send(
        person,
        PersonalMessage(
            title=title,
            body=body or title,
            link=absolute_url(notification.url),
            link_text=link_text,
            event=delivery.event,
        ),
        timeout=robot_timeout(),
    )


def _send_robot(delivery: Delivery) -> None:
    robot = delivery.robot
    assert robot is not None  # noqa: S101 - the check constraint on Delivery; for mypy
    if not robot.active:
        raise PermanentError(_("The group robot is switched off."))
    people = {
        p.user_id: p
        for p in Person.objects.filter(user_id__in=delivery.mention_user_ids).select_related("user")
    }
    mentions = tuple(
        Mention(
            name=display_name(people[pk].user),
            phone=people[pk].phone,
            dingtalk_id=people[pk].dingtalk_id,
            feishu_id=people[pk].feishu_id,
            wecom_id=people[pk].wecom_id,
        )
        for pk in delivery.mention_user_ids
        if pk in people
    )
    with translation.override(settings.LANGUAGE_CODE):
        link_text = _("Open in Collab")
    robot_send(
        kind=robot.kind,
        webhook_url=robot.webhook_url,
        secret=robot.secret,
        message=RobotMessage(
            title=delivery.title,
            body=delivery.body,
            link=absolute_url(delivery.url),
            link_text=link_text,
            language=settings.LANGUAGE_CODE,
            mentions=mentions,
            keyword=robot.keyword,
        ),
        timeout=robot_timeout(),
    )


def deliveries_sweep(*, batch: int = 500, budget_seconds: float = 50) -> dict[str, int]:
    """Delivers what is due; run every minute by beat. Returns a count per outcome.

    1. Release claims older than the sending timeout (a worker died mid-send): pending again,
       or failed when that was the last attempt.
    2. Attempt every due pending delivery, instant ones first, then oldest due first, up to
       ``batch``. Each attempt claims its row, so sweeps that overlap (a slow one, a duplicated
       beat) send nothing twice; instant ones first so a busy robot's free slots go to them.
       Stop after ``budget_seconds`` (robots that time out can make a sweep slow); the next
       minute's sweep carries on.
    """
    now = timezone.now()
    stale = Delivery.objects.filter(
        status=Delivery.Status.SENDING, last_attempt_at__lte=now - sending_timeout()
    )
    stopped = _("The worker stopped while sending.")
    stale.filter(attempts__gte=max_attempts()).update(status=Delivery.Status.FAILED, last_error=stopped)
    stale.update(status=Delivery.Status.PENDING, next_attempt_at=now, last_error=stopped)
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by(Case(When(urgency=Urgency.INSTANT, then=0), default=1), "next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    outcomes: dict[str, int] = {}
    stop_at = time.monotonic() + budget_seconds
    for delivery_id in due:
        if time.monotonic() > stop_at:
            break
        outcome = delivery_attempt(delivery_id=delivery_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def deliveries_resend(*, delivery_ids: Iterable[int]) -> list[int]:
    """Makes failed (or waiting) deliveries pending again with a fresh count of attempts, and
    delivers them after commit. Sent and in-flight ones are left alone: nothing is sent twice."""
    ids = list(
        Delivery.objects.filter(
            pk__in=list(delivery_ids), status__in=[Delivery.Status.FAILED, Delivery.Status.PENDING]
        ).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids, status__in=[Delivery.Status.FAILED, Delivery.Status.PENDING]).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if ids:
        from collab.notify.tasks import deliver

        enqueue_after_commit(deliver, ids)
    return ids
