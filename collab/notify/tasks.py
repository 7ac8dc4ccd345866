from smtplib import SMTPException

from celery import shared_task

from collab.notify.services import notification_email_send


@shared_task(
    name="notify.send_notification_emails",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_notification_emails(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        notification_email_send(notification_id=notification_id)
