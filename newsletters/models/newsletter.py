from django.db import models
from django.utils.translation import gettext_lazy as _


class NewsletterQuerySet(models.QuerySet["Newsletter"]):
    def offered(self) -> "NewsletterQuerySet":
        """Lists any reader may sign up for on a form."""
        return self.filter(is_public=True, audience=Newsletter.Audience.EVERYONE)


class Newsletter(models.Model):
    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        MEMBERS = "members", _("Members only")

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_(
            "Offered on signup pages and forms. Hidden lists take no signups from readers."
        ),
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    position = models.PositiveIntegerField(default=0, help_text=_("Lower comes first."))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NewsletterQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name
