"""Member sign-in by emailed link: no passwords; the session remembers the member."""

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from membership import emails
from membership.models import Member, SignInLink

SESSION_KEY = "membership.member_id"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def email_link(email: str) -> None:
    """Email a sign-in link if the normalised address is a member's; say nothing either way."""
    member = Member.objects.for_email(email).first()
    if member is None:
        return
    with transaction.atomic():
        _link, token = SignInLink.objects.issue(member)
        url = settings.SITE_URL + reverse("membership:sign_in_link", args=[token])
        emails.sign_in_link(member, url)


def check(token: str) -> SignInLink:
    """Return the link a token names if it still works; raise LinkInvalid or LinkExpired."""
    link = SignInLink.objects.for_token(token)
    if link is None:
        raise LinkInvalid
    if not link.usable(timezone.now()):
        raise LinkExpired
    return link


def sign_in(request: HttpRequest, token: str) -> Member:
    """Use a link: remember its member in a fresh session. Raise LinkInvalid or LinkExpired."""
    with transaction.atomic():
        link = check(token)
        link.use(timezone.now())
    start_session(request, link.member)
    return link.member


def start_session(request: HttpRequest, member: Member) -> None:
    """Remember the member in a fresh session: after a sign-in link, or redeeming a gift."""
    request.session.cycle_key()  # a new session id, so one planted before sign-in is useless
    request.session[SESSION_KEY] = member.pk


def current_member(request: HttpRequest) -> Member | None:
    member_id = request.session.get(SESSION_KEY)
    if not isinstance(member_id, int):
        return None
    return Member.objects.filter(pk=member_id).first()


def sign_out(request: HttpRequest) -> None:
    request.session.flush()
