from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from collab.notify.models import Notification


def _language_of(user: Any) -> str:
    person = getattr(user, "person", None)
    return person.language if person is not None else settings.LANGUAGE_CODE


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    render: Callable[[], tuple[str, str]],
    url: str = "",
    item: Any = None,
    dedupe: str | None = None,
) -> list[Notification]:
    """Stores one notification per recipient, in their language, and e-mails it after commit.

    ``render`` returns (title, body); it runs once per recipient with their language active.
    ``dedupe`` names the event: the same event reaches a person once, however often it is told.
    """
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None}.values():
        with translation.override(_language_of(recipient)):
            title, body = render()
        key = f"{dedupe}:{recipient.pk}" if dedupe else None
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=recipient,
                        kind=kind,
                        title=str(title)[:300],
                        body=str(body),
                        url=url,
                        item=item,
                        dedupe_key=key,
                    )
                )
        except IntegrityError:
            continue  # already told about this event
    ids = [n.pk for n in created]
    if ids:
        from collab.notify.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return created


def notification_email_send(*, notification_id: int) -> bool:
    """Sends one notification by e-mail unless another worker already has. True when sent here.

    1. Claim the row with a conditional UPDATE; only the worker that updated it sends.
    2. On failure, release the claim so a retry can take it again, and re-raise.
    """
    claimed = Notification.objects.filter(pk=notification_id, email_sent_at=None).update(
        email_sent_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if not notification.recipient.email:
        return False
    link = f"{settings.COLLAB_BASE_URL}{notification.url}" if notification.url else ""
    try:
        send_mail(
            subject=notification.title,
            message="\n\n".join(part for part in (notification.body, link) if part),
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    except Exception:
        Notification.objects.filter(pk=notification_id).update(email_sent_at=None)
        raise
    finally:
        Notification.objects.filter(pk=notification_id).update(email_attempts=notification.email_attempts + 1)
    return True


def notification_open(*, recipient: Any, notification_id: int) -> Notification:
    notification = Notification.objects.get(pk=notification_id, recipient=recipient)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())
    return notification


def notifications_mark_all_read(*, recipient: Any) -> int:
    return Notification.objects.filter(recipient=recipient, read_at=None).update(read_at=timezone.now())
