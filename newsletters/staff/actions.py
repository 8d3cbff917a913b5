"""Bulk actions on selected subscribers, each through the workflow that owns the change."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from newsletters import exports, signup, suppression, unsubscribe
from newsletters.consent import Provenance
from newsletters.models import ConsentEvent, Subscriber, Suppression
from newsletters.staff.forms import ChooseListsForm

# Actions that change readers one by one answer within a request only for so many.
MAX_READERS = 1000


def staff_provenance(request: HttpRequest) -> Provenance:
    user = getattr(request, "user", None)
    name = user.get_username() if user is not None else ""
    return Provenance.from_request(request, ConsentEvent.Source.STAFF, detail=f"admin: {name}")


def _bounded(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscriber]
) -> list[Subscriber] | None:
    subscribers = list(queryset.order_by("pk")[: MAX_READERS + 1])
    if len(subscribers) > MAX_READERS:
        modeladmin.message_user(
            request,
            _("Choose at most %(limit)s readers for this action.") % {"limit": MAX_READERS},
            messages.ERROR,
        )
        return None
    return subscribers


@admin.action(description=_("Resend the confirmation email"), permissions=["change"])
def resend_confirmation(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscriber]
) -> None:
    subscribers = _bounded(modeladmin, request, queryset)
    if subscribers is None:
        return
    sent = sum(signup.resend_confirmation(subscriber) for subscriber in subscribers)
    modeladmin.message_user(
        request,
        ngettext(
            "Sent %(sent)d confirmation email.",
            "Sent %(sent)d confirmation emails.",
            sent,
        )
        % {"sent": sent},
        messages.SUCCESS if sent else messages.WARNING,
    )
    if sent < len(subscribers):
        modeladmin.message_user(
            request,
            _(
                "%(count)d readers got nothing: they have no pending list, are suppressed, "
                "or were sent one recently (the same limits as a signup form apply)."
            )
            % {"count": len(subscribers) - sent},
            messages.INFO,
        )


@admin.action(description=_("Unsubscribe from a list…"), permissions=["change"])
def unsubscribe_from_lists(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscriber]
) -> HttpResponse | None:
    subscribers = _bounded(modeladmin, request, queryset)
    if subscribers is None:
        return None
    form = ChooseListsForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        provenance = staff_provenance(request)
        chosen = list(form.cleaned_data["newsletters"])
        left = sum(bool(unsubscribe.unsubscribe(s, chosen, provenance)) for s in subscribers)
        modeladmin.message_user(
            request,
            ngettext("Unsubscribed %(count)d reader.", "Unsubscribed %(count)d readers.", left)
            % {"count": left},
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": _("Unsubscribe readers from a list"),
        "form": form,
        "subscribers": subscribers[:20],
        "count": len(subscribers),
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action": request.POST.get("action", "unsubscribe_from_lists"),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(
        request, "admin/newsletters/subscriber/unsubscribe_from_lists.html", context
    )


@admin.action(description=_("Suppress: stop all list email"), permissions=["change"])
def suppress(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
    subscribers = _bounded(modeladmin, request, queryset)
    if subscribers is None:
        return
    provenance = staff_provenance(request)
    detail = provenance.detail
    added = sum(
        suppression.suppress(s.email, Suppression.Reason.STAFF, provenance, detail=detail)
        for s in subscribers
    )
    modeladmin.message_user(
        request,
        ngettext("Suppressed %(count)d address.", "Suppressed %(count)d addresses.", added)
        % {"count": added},
        messages.SUCCESS,
    )


@admin.action(description=_("Export the selection as CSV"), permissions=["export"])
def export_selection(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Subscriber]
) -> HttpResponseBase:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return exports.csv_response(
        exports.rows_for_readers(queryset), f"subscribers-selection-{stamp}.csv"
    )
