"""Signups from the newsroom's own sites: the JSON endpoint and the embeddable form.

Neither uses cookies, so CSRF tokens cannot work across sites; instead a browser's Origin header
must name this service or one of the configured origins, and rate limits and the honeypot stand
in for the token.
"""

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from config.security import framable_by_newsroom
from newsletters import catalogue, ratelimits, signup
from newsletters.addresses import INVALID as INVALID_EMAIL
from newsletters.consent import SIGNUP_WORDING, Provenance
from newsletters.forms import SignupForm
from newsletters.models import ConsentEvent

MAX_BODY_BYTES = 16_384
ALMOST_THERE = gettext_lazy(
    "Almost there: we've sent you a confirmation email. Click the link in it to confirm."
)


def _own_origin() -> str:
    parts = urlsplit(settings.SITE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(request: HttpRequest) -> bool:
    """A request without Origin is not from a browser form; with one, it must be ours or listed."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {_own_origin(), *settings.EMBED_ALLOWED_ORIGINS}
    return origin in allowed or request.build_absolute_uri("/").rstrip("/") == origin


class BadRequestBody(Exception):
    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


def _signup_data(request: HttpRequest) -> QueryDict | dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise BadRequestBody(_("The request is too large."))
    content_type = request.content_type or ""
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return request.POST
    if content_type != "application/json":
        raise BadRequestBody(_("Send JSON or a form."))
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequestBody(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequestBody(_("Send a JSON object with email and newsletters."))
    email, lists, website = data.get("email", ""), data.get("newsletters", []), data.get("website")
    if isinstance(lists, str):
        lists = [lists]
    errors: dict[str, list[str]] = {}
    if not isinstance(email, str):
        errors["email"] = [str(INVALID_EMAIL)]
    if not (isinstance(lists, list) and all(isinstance(slug, str) for slug in lists)):
        errors["newsletters"] = [_("Give the newsletters as a list of their slugs.")]
    if errors:
        raise BadRequestBody(_("Please correct the errors and try again."), errors)
    return {"email": email, "newsletters": lists, "website": str(website or "")}


def _wants_html(request: HttpRequest) -> bool:
    """A plain HTML form on the newsroom's site navigates here; scripts ask for JSON."""
    if (request.content_type or "") == "application/json":
        return False
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept


@csrf_exempt
@require_POST
def subscriptions(request: HttpRequest) -> HttpResponse:
    """POST /api/v1/subscriptions: {"email": ..., "newsletters": [slugs]} -> 202, 400 or 429."""
    html = _wants_html(request)
    if not origin_allowed(request):
        return _json({"message": _("Signups from this site are not accepted.")}, 403)
    try:
        data = _signup_data(request)
    except BadRequestBody as exc:
        return _json({"message": str(exc), "errors": exc.errors}, 400)
    if html:
        form = SignupForm(data)
        valid = form.is_valid()
        cleaned = form.cleaned_data
    else:
        cleaned, errors = SignupForm.check(data)
        valid = not errors
    if ratelimits.signup_limited(request, cleaned["email"] if valid else None):
        return _rate_limited(request, html)
    if not valid:
        if html:
            return render(
                request,
                "newsletters/signup.html",
                {"form": form, "wording": form.wording},
                status=400,
            )
        return _json(
            {"message": _("Please correct the errors and try again."), "errors": errors}, 400
        )
    provenance = Provenance.from_request(request, ConsentEvent.Source.API, SIGNUP_WORDING)
    signup.request_subscription(cleaned["email"], cleaned["newsletters"], provenance)
    if html:
        return HttpResponseRedirect(
            settings.SITE_URL + reverse("newsletters:almost_there"), status=303
        )
    return _json({"message": str(ALMOST_THERE)}, 202)


def _rate_limited(request: HttpRequest, html: bool) -> HttpResponse:
    if html:
        return render(request, "newsletters/too_many.html", status=429)
    return _json({"message": _("Too many attempts. Please wait a while and try again.")}, 429)


def _json(payload: dict[str, Any], status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def embed(request: HttpRequest) -> HttpResponse:
    """A compact form for an iframe on the newsroom's site: ?newsletters=slug,slug narrows it."""
    wanted = {s for s in request.GET.get("newsletters", "").split(",") if s}
    offered = [n for slug, n in catalogue.offered().items() if not wanted or slug in wanted]
    context: dict[str, Any] = {"query": request.GET.urlencode()}
    status = 200
    if request.method == "POST":
        if not origin_allowed(request):
            return framable_by_newsroom(
                render(request, "newsletters/embed_refused.html", status=403)
            )
        form = SignupForm(request.POST, newsletters=offered)
        valid = form.is_valid()
        if ratelimits.signup_limited(request, form.cleaned_data["email"] if valid else None):
            return framable_by_newsroom(
                render(request, "newsletters/embed_too_many.html", status=429)
            )
        if valid:
            provenance = Provenance.from_request(request, ConsentEvent.Source.EMBED, form.wording)
            signup.request_subscription(
                form.cleaned_data["email"], form.cleaned_data["newsletters"], provenance
            )
            return framable_by_newsroom(render(request, "newsletters/embed_done.html"))
        status = 400
    else:
        form = SignupForm(newsletters=offered)
    context["form"] = form
    context["wording"] = form.wording
    return framable_by_newsroom(render(request, "newsletters/embed.html", context, status=status))
