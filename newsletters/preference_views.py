"""Reader pages for managing their own lists: preferences, asking for the link, unsubscribing."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from newsletters import preferences, ratelimits, suppression
from newsletters.consent import SIGNUP_WORDING, Provenance
from newsletters.forms import PreferencesForm, PreferencesLinkForm
from newsletters.links import PreferencesLink, UnsubscribeLink
from newsletters.models import ConsentEvent, Subscriber
from newsletters.preferences import Changes
from newsletters.tokens import TokenExpired, TokenInvalid
from newsletters.unsubscribe import unsubscribe as leave

RATE_LIMITED_STATUS = 429


def _page(
    request: HttpRequest,
    subscriber: Subscriber,
    token: str,
    *,
    form: PreferencesForm | None = None,
    changes: Changes | None = None,
    left_all: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The preferences page, showing the reader's lists as they are now."""
    choices = preferences.choices_for(subscriber)
    current = preferences.statuses(subscriber)
    form = form or PreferencesForm(
        choices=choices, initial={"newsletters": [n.slug for n in choices if n.pk in current]}
    )
    chosen = form["newsletters"].value() or []
    context: dict[str, Any] = {
        "subscriber": subscriber,
        "token": token,
        "form": form,
        "rows": [(n, current.get(n.pk), n.slug in chosen) for n in choices],
        "suppressed": suppression.is_suppressed(subscriber.email),
        "changes": changes,
        "left_all": left_all,
        "wording": SIGNUP_WORDING,
    }
    return render(request, "newsletters/preferences.html", context, status=status)


def _provenance(request: HttpRequest, detail: str) -> Provenance:
    return Provenance.from_request(request, ConsentEvent.Source.EMAIL_LINK, detail=detail)


def _reader(request: HttpRequest, token: str) -> Subscriber | HttpResponse:
    """The subscriber a preferences link names, or the page to show instead."""
    try:
        link = PreferencesLink.read(token)
    except TokenExpired:
        return render(request, "newsletters/preferences_expired.html", {"token": token}, status=410)
    except TokenInvalid:
        return _invalid_link(request)
    return link.subscriber() or _invalid_link(request)


@never_cache
@require_http_methods(["GET", "POST"])
def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the reader's lists (and changes nothing); POST saves the ticked ones."""
    reader = _reader(request, token)
    if isinstance(reader, HttpResponse):
        return reader
    if request.method != "POST":
        return _page(request, reader, token)
    form = PreferencesForm(request.POST, choices=preferences.choices_for(reader))
    if not form.is_valid():
        return _page(request, reader, token, form=form, status=400)
    changes = preferences.update(
        reader, form.cleaned_data["newsletters"], _provenance(request, "preferences page")
    )
    return _page(request, reader, token, changes=changes)


@never_cache
@require_POST
def leave_all(request: HttpRequest, token: str) -> HttpResponse:
    reader = _reader(request, token)
    if isinstance(reader, HttpResponse):
        return reader
    changes = preferences.leave_all(reader, _provenance(request, "preferences page: leave all"))
    return _page(request, reader, token, changes=changes, left_all=True)


@never_cache
@require_POST
def resume(request: HttpRequest, token: str) -> HttpResponse:
    """A suppressed reader asks to confirm afresh; the emailed link lifts the suppression."""
    reader = _reader(request, token)
    if isinstance(reader, HttpResponse):
        return reader
    # The signup workflow's own daily limit on confirmation emails applies.
    changes = preferences.resume(reader, _provenance(request, "preferences page: resume"))
    return _page(request, reader, token, changes=changes)


@require_http_methods(["GET", "POST"])
def request_link(request: HttpRequest) -> HttpResponse:
    """Ask for the preferences link by address; the answer never says whether it is known."""
    if request.method != "POST":
        form = PreferencesLinkForm()
        return render(request, "newsletters/preferences_request.html", {"form": form})
    form = PreferencesLinkForm(request.POST)
    if ratelimits.ip_limited(request, "preferences-link", settings.PREFERENCES_LINK_RATE_PER_IP):
        return _too_many(request)
    if not form.is_valid():
        return render(request, "newsletters/preferences_request.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    if ratelimits.address_limited(
        request, "preferences-link", email, settings.PREFERENCES_LINK_RATE_PER_ADDRESS
    ):
        return _too_many(request)
    preferences.send_link(email)
    return redirect("newsletters:preferences_sent")


@require_POST
def renew_link(request: HttpRequest, token: str) -> HttpResponse:
    """Email a fresh preferences link to the address an expired one was for."""
    try:
        link = PreferencesLink.read(token)
    except TokenExpired as expired:
        link = expired.payload
    except TokenInvalid:
        return _invalid_link(request)
    subscriber = link.subscriber()
    if subscriber is None:
        return _invalid_link(request)
    if ratelimits.ip_limited(
        request, "preferences-link", settings.PREFERENCES_LINK_RATE_PER_IP
    ) or ratelimits.address_limited(
        request, "preferences-link", subscriber.email, settings.PREFERENCES_LINK_RATE_PER_ADDRESS
    ):
        return _too_many(request)
    preferences.send_link(subscriber.email)
    return redirect("newsletters:preferences_sent")


@require_GET
def link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/preferences_sent.html")


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click: a POST, with or without cookies, leaves at once; GET only asks.

    Mail clients post "List-Unsubscribe=One-Click" from their servers, with no cookie and no
    CSRF token; the landing page's button posts here too. Mail scanners only GET.
    """
    try:
        link = UnsubscribeLink.read(token)
    except TokenInvalid:
        return _invalid_link(request)
    subscriber = link.subscriber()
    newsletters = link.newsletters()
    context: dict[str, Any] = {"token": token, "newsletters": newsletters}
    if subscriber is not None:
        context["preferences_url"] = PreferencesLink(subscriber.pk).url()
    if request.method != "POST":
        return render(request, "newsletters/unsubscribe.html", context)
    if subscriber is not None:
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        detail = "one-click unsubscribe from the mail client" if one_click else "unsubscribe page"
        leave(subscriber, newsletters, _provenance(request, detail))
    # Someone erased or never subscribed is not on these lists either: the answer is the same.
    return render(request, "newsletters/unsubscribed.html", context)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/preferences_invalid.html", status=400)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletters/preferences_too_many.html", status=RATE_LIMITED_STATUS)
