import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from membership.models.members import Member


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignInLinkQuerySet(models.QuerySet["SignInLink"]):
    def issue(self, member: Member, now: datetime | None = None) -> tuple["SignInLink", str]:
        """Store a new link for the member and return it with its token (kept only hashed)."""
        now = now or timezone.now()
        token = secrets.token_urlsafe(32)
        link = self.create(
            member=member,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.MEMBER_SIGN_IN_LINK_MINUTES),
        )
        return link, token

    def for_token(self, token: str) -> "SignInLink | None":
        if not 20 <= len(token) <= 100:
            return None
        return self.select_related("member").filter(token_hash=token_hash(token)).first()

    def expired(self, now: datetime) -> "SignInLinkQuerySet":
        return self.filter(expires_at__lt=now)


class SignInLink(models.Model):
    """An emailed sign-in link: expires, and works for a short while after its first use."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    first_used_at = models.DateTimeField(null=True, blank=True)

    objects = SignInLinkQuerySet.as_manager()

    def __str__(self) -> str:
        return f"sign-in link for member {self.member_id}"

    def usable(self, now: datetime) -> bool:
        if now >= self.expires_at:
            return False
        if self.first_used_at is None:
            return True
        reuse = timedelta(minutes=settings.MEMBER_SIGN_IN_REUSE_MINUTES)
        return now < self.first_used_at + reuse

    def use(self, now: datetime) -> None:
        if self.first_used_at is None:
            self.first_used_at = now
            self.save(update_fields=["first_used_at"])
