from celery import shared_task

from collab.movein import services
from collab.org.models import DirectorySource
from collab.org.sync.snapshot import DirectoryError


@shared_task(name="movein.sync_directories")
def sync_directories() -> None:
    # A failing source keeps its error on its row (shown in the admin) and does not stop the others.
    for source in DirectorySource.objects.filter(scheduled=True).exclude(kind=DirectorySource.Kind.EXCEL):
        try:
            services.directory_apply(source=source)
        except DirectoryError:
            continue
