"""Buying gifts, the pages either side of Checkout, and the buyer's gift page."""

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from membership import gateway, gift_delivery, gift_purchase
from membership.gift_forms import (
    RECIPIENTS_PREFIX,
    AddressForm,
    BuyerForm,
    DateForm,
    RecipientForm,
    RecipientFormSet,
)
from membership.models import GiftPrice, GiftPurchase
from membership.models.gifts import MAX_GIFTS_PER_PURCHASE
from membership.views import see_other
from newsletters import ratelimits
from newsletters.tokens import TokenExpired, TokenInvalid

_RECIPIENT_FIELDS = list(RecipientForm.base_fields)
_UNAVAILABLE = _lazy(
    "We couldn't reach our payment provider. Nothing was charged; please try again."
)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/too_many.html", status=429)


def _typed_so_far(data: QueryDict, drop: int | None = None, add: bool = False) -> list[dict]:
    """What the buyer typed for each recipient, to show again with a row added or removed."""
    try:
        count = int(data.get(f"{RECIPIENTS_PREFIX}-TOTAL_FORMS", "1"))
    except ValueError:
        count = 1
    rows = [
        {field: data.get(f"{RECIPIENTS_PREFIX}-{i}-{field}", "") for field in _RECIPIENT_FIELDS}
        for i in range(min(max(count, 1), MAX_GIFTS_PER_PURCHASE))
        if i != drop
    ]
    if add and len(rows) < MAX_GIFTS_PER_PURCHASE:
        rows.append({})
    return rows or [{}]


def _order(buyer: BuyerForm, recipients: Any) -> gift_purchase.Order:
    return gift_purchase.Order(
        buyer_name=buyer.cleaned_data["buyer_name"],
        buyer_email=buyer.cleaned_data["buyer_email"],
        recipients=[
            gift_purchase.Recipient(
                **{field: form.cleaned_data[field] for field in _RECIPIENT_FIELDS}
            )
            for form in recipients.forms
        ],
    )


@require_http_methods(["GET", "POST"])
def buy(request: HttpRequest) -> HttpResponse:
    prices = list(GiftPrice.objects.offered())
    status = 200
    if request.method == "POST" and ("add" in request.POST or "remove" in request.POST):
        # Adding or removing a recipient is a round trip: the page works without JavaScript.
        remove = request.POST.get("remove", "")
        rows = _typed_so_far(
            request.POST, drop=int(remove) if remove.isdigit() else None, add="add" in request.POST
        )
        buyer = BuyerForm(initial={key: request.POST.get(key, "") for key in BuyerForm.base_fields})
        recipients = RecipientFormSet(initial=rows, prefix=RECIPIENTS_PREFIX, prices=prices)
    elif request.method == "POST":
        if ratelimits.ip_limited(request, "gift-buy"):
            return _too_many(request)
        buyer = BuyerForm(request.POST)
        recipients = RecipientFormSet(request.POST, prefix=RECIPIENTS_PREFIX, prices=prices)
        if buyer.is_valid() & recipients.is_valid():
            try:
                session = gift_purchase.start(
                    _order(buyer, recipients), buyer.cleaned_data["attempt"]
                )
            except gift_purchase.PricesChanged:
                buyer.add_error(None, _("Our gift prices have just changed. Please choose again."))
                status = 400
            except gateway.PaymentsUnavailable:
                buyer.add_error(None, _UNAVAILABLE)
                # A fresh attempt: Stripe remembers the failed one under its key.
                fresh = request.POST.copy()
                fresh["attempt"] = uuid.uuid4().hex
                buyer.data = fresh
                status = 503
            else:
                return see_other(session.url)
        else:
            status = 400
    else:
        buyer = BuyerForm(initial={"attempt": uuid.uuid4().hex})
        recipients = RecipientFormSet(prefix=RECIPIENTS_PREFIX, prices=prices)
    for number, form in enumerate(recipients.forms, start=1):
        form.gift_number = number
    context = {
        "buyer": buyer,
        "recipients": recipients,
        "error_forms": [form for form in [*recipients.forms, buyer] if form.errors],
        "prices": prices,
        "max_gifts": MAX_GIFTS_PER_PURCHASE,
    }
    return render(request, "membership/gifts/buy.html", context, status=status)


@require_GET
@never_cache
def thanks(request: HttpRequest) -> HttpResponse:
    """Where Checkout sends the buyer back; the payment itself arrives by webhook."""
    session_id = request.GET.get("session_id", "")
    purchase = None
    if session_id.startswith("cs_") and len(session_id) <= 100:
        purchase = GiftPurchase.objects.filter(checkout_session_id=session_id).first()
    return render(request, "membership/gifts/thanks.html", {"purchase": purchase})


@require_GET
def cancelled(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/gifts/cancelled.html")


def _purchase_or_error(request: HttpRequest, token: str) -> GiftPurchase | HttpResponse:
    try:
        return GiftPurchase.for_page_token(token)
    except TokenExpired:
        return render(request, "membership/gifts/page_expired.html", status=410)
    except (TokenInvalid, GiftPurchase.DoesNotExist):
        return render(request, "membership/gifts/page_invalid.html", status=400)


def _gift_page(
    request: HttpRequest,
    purchase: GiftPurchase,
    token: str,
    status: int = 200,
    failed: tuple[int, Any] | None = None,
    too_late: bool = False,
) -> HttpResponse:
    gifts = list(purchase.gifts.all())
    forms = []
    for gift in gifts:
        address = AddressForm(initial={"email": gift.recipient_email}, prefix=f"g{gift.pk}")
        when = DateForm(initial={"deliver_on": gift.deliver_on}, prefix=f"g{gift.pk}")
        if failed and failed[0] == gift.pk:
            if isinstance(failed[1], AddressForm):
                address = failed[1]
            else:
                when = failed[1]
        forms.append({"gift": gift, "address": address, "when": when})
    context = {
        "purchase": purchase,
        "token": token,
        "rows": forms,
        "done": request.GET.get("done", ""),
        "error_forms": [failed[1]] if failed else [],
        "too_late": too_late,
    }
    response = render(request, "membership/gifts/page.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the address holds the buyer's key
    return response


@require_GET
def gift_page(request: HttpRequest, token: str) -> HttpResponse:
    purchase = _purchase_or_error(request, token)
    if isinstance(purchase, HttpResponse):
        return purchase
    return _gift_page(request, purchase, token)


ACTIONS = ("resend", "address", "date")


@require_POST
def gift_action(request: HttpRequest, token: str, gift_id: int, action: str) -> HttpResponse:
    """Resend a gift email, correct its address, or move its delivery date."""
    purchase = _purchase_or_error(request, token)
    if isinstance(purchase, HttpResponse):
        return purchase
    gift = purchase.gifts.filter(pk=gift_id).first()
    if gift is None or action not in ACTIONS:
        return render(request, "membership/gifts/page_invalid.html", status=404)
    allowed = {
        "resend": gift.can_resend,
        "address": gift.can_change_address,
        "date": gift.can_change_date,
    }
    if not allowed[action]:
        return _gift_page(request, purchase, token, status=409, too_late=True)
    form: AddressForm | DateForm | None = None
    try:
        if action == "resend":
            limit = f"{settings.GIFT_RESENDS_PER_DAY}/d"
            if ratelimits.exceeded(("gift-resend", str(gift.pk), limit)):
                return _too_many(request)
            gift_delivery.resend(gift)
        elif action == "address":
            form = AddressForm(request.POST, prefix=f"g{gift.pk}")
            if not form.is_valid():
                return _gift_page(request, purchase, token, status=400, failed=(gift.pk, form))
            gift_delivery.change_address(gift, form.cleaned_data["email"])
        else:
            form = DateForm(request.POST, prefix=f"g{gift.pk}")
            if not form.is_valid():
                return _gift_page(request, purchase, token, status=400, failed=(gift.pk, form))
            gift_delivery.change_date(gift, form.cleaned_data["deliver_on"])
    except gift_delivery.NotChangeable:
        return _gift_page(request, purchase, token, status=409, too_late=True)
    url = reverse("membership:gift_page", args=[token])
    return redirect(f"{url}?done={action}#gift-{gift.pk}")
