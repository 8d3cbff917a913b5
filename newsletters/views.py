"""Reader pages: sign up, confirm, and the answers in between."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from newsletters import ratelimits, signup
from newsletters.consent import CONFIRM_WORDING, SIGNUP_WORDING, Provenance
from newsletters.forms import SignupForm
from newsletters.models import ConsentEvent, Newsletter, Subscriber
from newsletters.signup import ConfirmationLink
from newsletters.tokens import TokenExpired, TokenInvalid

RATE_LIMITED_STATUS = 429


@require_http_methods(["GET", "POST"])
def signup_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SignupForm(request.POST)
        valid = form.is_valid()
        if ratelimits.signup_limited(request, form.cleaned_data["email"] if valid else None):
            return _too_many(request)
        if valid:
            provenance = Provenance.from_request(request, ConsentEvent.Source.FORM, form.wording)
            signup.request_subscription(
                form.cleaned_data["email"], form.cleaned_data["newsletters"], provenance
            )
            return redirect("newsletters:almost_there")
        status = 400
    else:
        form = SignupForm(initial={"newsletters": request.GET.getlist("newsletter")})
        status = 200
    return render(
        request, "newsletters/signup.html", {"form": form, "wording": form.wording}, status=status
    )


@require_GET
def almost_there(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/almost_there.html")


def _too_many(request: HttpRequest, template: str = "newsletters/too_many.html") -> HttpResponse:
    return render(request, template, status=RATE_LIMITED_STATUS)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show a Confirm button on GET (mail scanners open links); confirm on POST."""
    try:
        link = ConfirmationLink.read(token)
    except TokenExpired as expired:
        return render(
            request,
            "newsletters/confirm_expired.html",
            {"token": token, "newsletters": signup.newsletters_for(expired.payload)},
            status=410,
        )
    except TokenInvalid:
        return _invalid_link(request)
    if request.method == "POST":
        provenance = Provenance.from_request(
            request, ConsentEvent.Source.EMAIL_LINK, CONFIRM_WORDING, detail="confirmation link"
        )
        try:
            confirmed = signup.confirm(link, provenance)
        except TokenInvalid:
            return _invalid_link(request)
        return render(request, "newsletters/confirmed.html", {"confirmed": confirmed})
    newsletters = signup.newsletters_for(link)
    if not newsletters:
        return _invalid_link(request)
    return render(
        request,
        "newsletters/confirm.html",
        {"newsletters": newsletters, "wording": CONFIRM_WORDING},
    )


@require_POST
def renew_confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """Send a fresh confirmation email for the lists an expired link named."""
    try:
        link = ConfirmationLink.read(token)
    except TokenExpired as expired:
        link = expired.payload
    except TokenInvalid:
        return _invalid_link(request)
    subscriber = Subscriber.objects.filter(pk=link.subscriber_id).first()
    newsletters = list(Newsletter.objects.offered().filter(pk__in=link.newsletter_ids))
    if subscriber is None or not newsletters:
        return _invalid_link(request)
    if ratelimits.signup_limited(request, subscriber.email):
        return _too_many(request)
    provenance = Provenance.from_request(
        request, ConsentEvent.Source.EMAIL_LINK, SIGNUP_WORDING, detail="renewed confirmation link"
    )
    signup.request_subscription(subscriber.email, newsletters, provenance)
    return redirect("newsletters:almost_there")


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/link_invalid.html", status=400)
