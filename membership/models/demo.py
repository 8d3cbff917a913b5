from django.db import models
from django.utils import timezone


class DemoEvent(models.Model):
    """A Stripe-shaped event made by the payments demo, waiting to be posted to our webhook.

    Only development (no Stripe key, DEBUG on) writes these; production never has any.
    """

    stripe_id = models.CharField(max_length=100, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    posted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"demo {self.payload.get('type', 'event')} {self.stripe_id}"
