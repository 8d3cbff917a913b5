import pytest
from django.core import mail
from django.utils import timezone

from newsletters import emails
from newsletters.models import Subscriber, Subscription


@pytest.fixture
def welcomed(newsletters, django_capture_on_commit_callbacks):
    """A reader on two lists, and the welcome email (a list email) they got for them."""
    subscriber = Subscriber.objects.create(email="Reader@example.org")
    lists = [newsletters["daily-briefing"], newsletters["editors-picks"]]
    for newsletter in lists:
        Subscription.objects.create(
            subscriber=subscriber,
            newsletter=newsletter,
            status="active",
            confirmed_at=timezone.now(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        emails.welcome(subscriber, lists)
    (message,) = mail.outbox
    mail.outbox.clear()
    return subscriber, message


def statuses(subscriber):
    return dict(subscriber.subscriptions.values_list("newsletter__slug", "status"))
