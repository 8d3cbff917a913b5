"""Picking up imports no worker is on."""

from datetime import timedelta

from django.utils import timezone

from newsletters.models import SubscriberImport

# A fresh upload's task is queued on commit; give it this long before treating it as missed.
GRACE = timedelta(minutes=1)


def resume_stalled() -> int:
    from config.celery import publish
    from newsletters.tasks import run_import

    now = timezone.now()
    count = 0
    for pk in (
        SubscriberImport.objects.stalled(now)
        .filter(created_at__lt=now - GRACE)
        .values_list("pk", flat=True)
    ):
        if not publish(run_import, pk):
            break
        count += 1
    return count
