"""Pages of the payments demo: the stand-ins for Stripe Checkout and the customer portal."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from membership import demo, gateway
from membership.forms import DemoPortalForm
from membership.models import Plan
from membership.views import see_other


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
