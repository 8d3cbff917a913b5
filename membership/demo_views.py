"""Pages of the payments demo: the stand-ins for Stripe Checkout and the customer portal."""

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from membership import demo, demo_gifts, gateway, gift_refunds
from membership.forms import DemoPortalForm
from membership.models import GiftPurchase, Plan
from membership.views import see_other
from newsletters.tokens import TokenExpired, TokenInvalid


def demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse the demo unless payments are unconfigured and DEBUG is on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (settings.DEBUG and gateway.demo_mode()):
            return render(request, "membership/demo_refused.html", status=404)
        return view(request, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
@never_cache
@demo_only
def checkout(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = demo.read_checkout(token)
    except (signing.BadSignature, KeyError, TypeError):
        return render(request, "membership/link_invalid.html", status=400)
    plan = Plan.objects.filter(pk=session.plan_id).first()
    if plan is None:
        return render(request, "membership/link_invalid.html", status=400)
    if request.method == "POST":
        if request.POST.get("choice") == "cancel":
            return see_other(session.cancel_url)
        return see_other(demo.complete_checkout(session))
    return render(request, "membership/demo_checkout.html", {"session": session, "plan": plan})


@require_http_methods(["GET", "POST"])
@never_cache
@demo_only
def portal(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = demo.read_portal(token)
    except (signing.BadSignature, KeyError, TypeError):
        return render(request, "membership/link_invalid.html", status=400)
    memberships = session.memberships()
    status = 200
    if request.method == "POST":
        form = DemoPortalForm(request.POST)
        chosen = {m.pk: m for m in memberships}
        if form.is_valid() and form.cleaned_data["membership"] in chosen:
            membership = chosen[form.cleaned_data["membership"]]
            demo.portal_action(session, membership, form.cleaned_data["action"])
            return see_other(session.return_url)
        status = 400
    return render(
        request,
        "membership/demo_portal.html",
        {"session": session, "memberships": memberships},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@never_cache
@demo_only
def gift_checkout(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = demo_gifts.read_checkout(token)
    except (signing.BadSignature, KeyError, TypeError):
        return render(request, "membership/link_invalid.html", status=400)
    purchase = GiftPurchase.objects.filter(pk=session.purchase_id).first()
    if purchase is None:
        return render(request, "membership/link_invalid.html", status=400)
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice == "cancel":
            return see_other(session.cancel_url)
        if choice in demo_gifts.CHOICES:
            return see_other(demo_gifts.complete_checkout(session, purchase, choice))
    gifts = list(purchase.gifts.all())
    return render(
        request,
        "membership/demo_gift_checkout.html",
        {"session": session, "purchase": purchase, "gifts": gifts},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@demo_only
def gift_refund(request: HttpRequest, token: str, gift_id: int) -> HttpResponse:
    """Refund one gift as staff would in Stripe, so charge.refunded runs end to end."""
    try:
        purchase = GiftPurchase.for_page_token(token)
    except (TokenInvalid, TokenExpired, GiftPurchase.DoesNotExist):
        return render(request, "membership/link_invalid.html", status=400)
    gift = purchase.gifts.filter(pk=gift_id).first()
    if gift is None:
        return render(request, "membership/link_invalid.html", status=400)
    with contextlib.suppress(gift_refunds.NotRefundable):  # refunded already: the page says so
        gift_refunds.request_refund(gift)
    return see_other(reverse("membership:gift_page", args=[token]) + f"?done=refund#gift-{gift.pk}")
