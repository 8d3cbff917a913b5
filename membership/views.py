"""Reader pages: join, the pages either side of Checkout, sign-in, and the account."""

import uuid
from functools import wraps
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from membership import access, checkout, gateway, signin
from membership.access import MEMBER_LIST_WORDING
from membership.forms import AttemptForm, JoinForm, MemberListForm, SignInForm
from membership.models import Member, Membership, Plan
from newsletters import ratelimits, signup
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent


def _new_attempt() -> str:
    return uuid.uuid4().hex


def see_other(url: str) -> HttpResponse:
    """Send the browser on after a POST (to Stripe, or the demo)."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/too_many.html", status=429)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    member = signin.current_member(request)
    status = 200
    if request.method == "POST":
        form = JoinForm(request.POST)
        if ratelimits.ip_limited(request, "join"):
            return _too_many(request)
        if form.is_valid():
            data = form.cleaned_data
            if ratelimits.address_limited(request, "join", data["email"]):
                return _too_many(request)
            try:
                session = checkout.start(data["email"], data["plan"], data["attempt"])
            except checkout.AlreadyMember as exc:
                signin.email_link(exc.member.email)
                return render(request, "membership/already_member.html")
            except gateway.PaymentsUnavailable:
                status = 503
                form.add_error(None, _unavailable_message())
            else:
                return see_other(session.url)
        else:
            status = 400
    else:
        initial = {"attempt": _new_attempt(), "email": member.email if member else ""}
        form = JoinForm(initial=initial)
    plans = Plan.objects.offered()
    gift_ends_at = checkout.gift_trial_end(member) if member else None
    return render(
        request,
        "membership/join.html",
        {"form": form, "plans": plans, "member": member, "gift_ends_at": gift_ends_at},
        status=status,
    )


def _unavailable_message() -> str:
    return _("We couldn't reach our payment provider. Nothing was charged; please try again.")


@require_GET
@never_cache
def welcome(request: HttpRequest) -> HttpResponse:
    """Where Checkout sends the reader back; the membership itself arrives by webhook."""
    session_id = request.GET.get("session_id", "")
    membership = None
    if session_id.startswith("cs_") and len(session_id) <= 100:
        membership = (
            Membership.objects.filter(checkout_session_id=session_id).select_related("plan").first()
        )
    confirmed = membership is not None and membership.gives_access()
    return render(
        request, "membership/welcome.html", {"membership": membership, "confirmed": confirmed}
    )


@require_GET
def cancelled(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/cancelled.html")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SignInForm(request.POST)
        if ratelimits.ip_limited(request, "member-sign-in"):
            return _too_many(request)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if ratelimits.address_limited(request, "member-sign-in", email):
                return _too_many(request)
            signin.email_link(email)
            return redirect("membership:sign_in_sent")
        status = 400
    else:
        form = SignInForm()
        status = 200
    return render(request, "membership/sign_in.html", {"form": form}, status=status)


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/sign_in_sent.html")


@require_http_methods(["GET", "POST"])
@never_cache
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """Show a Sign in button on GET (mail scanners open links); sign in on POST."""
    try:
        if request.method == "POST":
            signin.sign_in(request, token)
            return redirect("membership:account")
        signin.check(token)
    except signin.LinkExpired:
        return render(request, "membership/link_expired.html", status=410)
    except signin.LinkInvalid:
        return render(request, "membership/link_invalid.html", status=400)
    return render(request, "membership/sign_in_confirm.html")


class _MemberView(Protocol):
    def __call__(self, request: HttpRequest, member: Member) -> HttpResponse: ...


def member_required(view: _MemberView) -> Any:
    """Pass the signed-in member to the view; send anyone else to the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        member = signin.current_member(request)
        if member is None:
            return redirect("membership:sign_in")
        return view(request, member)

    return wrapper


def _account(request: HttpRequest, member: Member, status: int = 200, **extra: Any) -> HttpResponse:
    membership = member.current_membership()
    context = {
        "member": member,
        "membership": membership,
        "has_access": membership is not None and membership.gives_access(),
        "lists": access.member_lists(member),
        "portal_form": AttemptForm(initial={"attempt": _new_attempt()}),
        # A gift member is invited to carry on; joining keeps the rest of the gift.
        "gift_ends_at": member.gift_ends_at(),
        "pays": member.paying_membership() is not None,
        **extra,
    }
    return render(request, "membership/account.html", context, status=status)


@require_GET
@never_cache
@member_required
def account(request: HttpRequest, member: Member) -> HttpResponse:
    return _account(request, member)


@require_POST
@member_required
def billing(request: HttpRequest, member: Member) -> HttpResponse:
    """Open the customer portal: card, invoices, cancelling."""
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _account(request, member, status=400, portal_error=form.errors["attempt"][0])
    try:
        session = checkout.open_portal(member, form.cleaned_data["attempt"])
    except gateway.PaymentsUnavailable:
        return _account(request, member, status=503, portal_error=_unavailable_message())
    return see_other(session.url)


@require_POST
@member_required
def join_list(request: HttpRequest, member: Member) -> HttpResponse:
    """Ask to join a members-only newsletter: double opt-in, like any other list."""
    form = MemberListForm(request.POST)
    if not form.is_valid():
        return _account(request, member, status=400, list_form=form)
    if not member.has_access():
        return _account(request, member, status=403)
    provenance = Provenance.from_request(
        request, ConsentEvent.Source.FORM, MEMBER_LIST_WORDING, detail="member account page"
    )
    signup.subscribe(member.email, [form.cleaned_data["newsletter"]], provenance)
    return redirect("newsletters:almost_there")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    return render(request, "membership/signed_out.html")
