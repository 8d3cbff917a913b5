"""Asking imported readers to confirm, a few at a time.

An import that needs confirmation leaves one invitation per reader. A periodic task sends
at most IMPORT_CONFIRMATIONS_PER_MINUTE of them each minute, so a large file does not
arrive at the email provider as one burst (providers throttle, and readers' mail systems
distrust, sudden volume from a sender). Each goes through the signup workflow's own
confirmation path, with its limits: a reader who has just had a confirmation, is suppressed,
or has since confirmed or left gets nothing more.
"""

from newsletters import signup
from newsletters.models import ImportInvitation, Newsletter, Subscriber


def send_due(limit: int) -> int:
    """Send up to `limit` waiting confirmations; return how many emails were queued."""
    sent = 0
    lists: dict[int, list[Newsletter]] = {}
    for invitation in ImportInvitation.objects.select_related("run").order_by("pk")[:limit]:
        run = invitation.run
        if run.pk not in lists:
            lists[run.pk] = list(run.newsletters.all())
        subscriber = Subscriber(pk=invitation.subscriber_id)
        if signup.resend_confirmation(subscriber, lists[run.pk]):
            sent += 1
        ImportInvitation.objects.filter(pk=invitation.pk).delete()
    return sent
