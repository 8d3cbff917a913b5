"""Recipients' pages: redeem a gift by its link or its code; redeeming signs the reader in."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from membership import gift_redemption, signin
from membership.gift_forms import CodeForm
from membership.gift_redemption import GiftUnavailable
from membership.models import Gift, Member
from newsletters import ratelimits
from newsletters.tokens import TokenExpired, TokenInvalid

REDEEMED_KEY = "membership.gift_redeemed"


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/too_many.html", status=429)


def _unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "membership/gifts/unavailable.html", {"reason": reason}, status=410)


def _redeemed(
    request: HttpRequest, gift: Gift, email: str = "", member: Member | None = None
) -> HttpResponse:
    try:
        result = gift_redemption.redeem(gift, member_email=email, member=member)
    except GiftUnavailable as exc:
        return _unavailable(request, exc.reason)
    signin.start_session(request, result.member)
    request.session[REDEEMED_KEY] = result.gift.pk
    return redirect("membership:gift_redeemed")


def _confirm(request: HttpRequest, gift: Gift) -> HttpResponse:
    return render(request, "membership/gifts/redeem.html", {"gift": gift})


@require_http_methods(["GET", "POST"])
@never_cache
def redeem_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the gift email: a button on GET (mail scanners open links), redeem on POST."""
    gift = Gift.objects.for_token(token)
    if gift is None:
        return render(request, "membership/gifts/link_invalid.html", status=400)
    if request.method == "POST":
        return _redeemed(request, gift)
    try:
        gift_redemption.check(gift)
    except GiftUnavailable as exc:
        return _unavailable(request, exc.reason)
    return _confirm(request, gift)


@require_http_methods(["GET", "POST"])
@never_cache
def redeem_code(request: HttpRequest) -> HttpResponse:
    """Type in the code from a printed gift. A signed-in member redeems at once; anyone else
    is emailed a link at the address they give, so a code never signs anyone in by itself.
    """
    member = signin.current_member(request)
    if request.method != "POST":
        form = CodeForm(needs_email=member is None)
        return render(request, "membership/gifts/code.html", {"form": form, "member": member})
    if ratelimits.ip_limited(request, "gift-code", settings.GIFT_CODE_RATE_PER_IP):
        return _too_many(request)
    form = CodeForm(request.POST, needs_email=member is None)
    if form.is_valid():
        gift = Gift.objects.for_code(form.cleaned_data["code"])
        if gift is None:
            form.add_error("code", _("We don't know that code. Check it and try again."))
        else:
            try:
                gift_redemption.check(gift)
            except GiftUnavailable as exc:
                return _unavailable(request, exc.reason)
            if member is not None:
                return _redeemed(request, gift, member=member)
            email = form.cleaned_data["email"]
            if ratelimits.address_limited(request, "gift-code", email):
                return _too_many(request)
            gift_redemption.email_claim_link(gift, email)
            return render(request, "membership/gifts/claim_sent.html", {"email": email})
    context = {"form": form, "member": member, "error_forms": [form]}
    return render(request, "membership/gifts/code.html", context, status=400)


@require_http_methods(["GET", "POST"])
@never_cache
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """The link emailed after typing a code: redeems into the address it was sent to."""
    try:
        gift, email = gift_redemption.read_claim(token)
    except TokenExpired:
        return render(request, "membership/gifts/claim_expired.html", status=410)
    except TokenInvalid:
        return render(request, "membership/gifts/link_invalid.html", status=400)
    if request.method == "POST":
        return _redeemed(request, gift, email=email)
    try:
        gift_redemption.check(gift)
    except GiftUnavailable as exc:
        return _unavailable(request, exc.reason)
    return _confirm(request, gift)


@require_GET
@never_cache
def redeemed(request: HttpRequest) -> HttpResponse:
    member = signin.current_member(request)
    gift_id = request.session.get(REDEEMED_KEY)
    gift = (
        Gift.objects.select_related("membership").filter(pk=gift_id, redeemed_by=member).first()
        if member is not None and isinstance(gift_id, int)
        else None
    )
    if gift is None or gift.membership is None:
        return redirect("membership:account")
    return render(
        request, "membership/gifts/redeemed.html", {"gift": gift, "membership": gift.membership}
    )
